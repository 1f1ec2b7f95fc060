"""Offline machines: ImageNet weights fail at once, not after minutes of hub retries; random weights from TOML.

"At once" is checked by refusing every socket connection (a retry loop needs one), not by a
wall-clock bound: the time these tests take depends on how busy the machine is (imports of
torch and timm alone take seconds on a loaded CI runner), while a connection attempt does not.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from omniad import ConfigError
from omniad.runner import load_config, parse_config, run
from omniad_vision.backbones import create_feature_extractor, hub
from omniad_vision.detectors.patchcore.params import PatchCoreParams

SMALL_SYNTHETIC = {"textures": ["stripes", "grid", "noise"], "n_train": 4, "n_test_normal": 2, "n_test_anomalous": 2,
                   "image_size": 32}


@pytest.fixture
def no_local_weights(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No weight folder, an empty hub cache, a fresh probe cache, a timm that must not download, and no network.

    Every DNS lookup or connection is answered as on an offline machine (OSError) and recorded;
    the test fails at teardown if there was any (a probe thread would swallow an exception).
    """
    import huggingface_hub.constants
    import timm

    tried: list[str] = []

    def offline(what: str) -> Callable[..., Any]:
        def refuse(*args: object, **kwargs: object) -> Any:
            tried.append(f"{what}{args[1:] if what != 'getaddrinfo' else args[:2]}")
            raise OSError(f"{what}: the test machine is offline")
        return refuse

    monkeypatch.setattr(socket, "getaddrinfo", offline("getaddrinfo"))
    monkeypatch.setattr(socket.socket, "connect", offline("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", offline("connect_ex"))

    monkeypatch.setenv("OMNIAD_SHARED_DATA", str(tmp_path / "shared"))
    monkeypatch.delenv("OMNIAD_WEIGHTS_DIR", raising=False)
    for name in (*hub.OFFLINE_ENV, "HF_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(hub, "_reachable", {})
    real = timm.create_model

    def no_download(name: str, pretrained: bool = False, **kwargs: object) -> object:
        if pretrained and "file" not in dict(kwargs.get("pretrained_cfg_overlay") or {}):  # type: ignore[call-overload]
            raise AssertionError("the hub was tried although it is offline")
        return real(name, pretrained=pretrained, **kwargs)

    monkeypatch.setattr(timm, "create_model", no_download)
    yield tmp_path
    assert not tried, f"the network was tried although the machine is offline: {tried}"


def test_hf_hub_offline_fails_at_once_without_probing(no_local_weights: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def probe(host: str, port: int, timeout: float = 2.0) -> bool:
        raise AssertionError("HF_HUB_OFFLINE=1 must be enough")

    monkeypatch.setattr(hub, "probe", probe)
    with pytest.raises(ConfigError, match=r"no ImageNet weights for 'resnet18'.*offline \(HF_HUB_OFFLINE=1\).*weights='random'"):
        create_feature_extractor("resnet18", ["layer1"], weights="imagenet")


def test_failed_probe_runs_once_and_every_subset_fails_fast(no_local_weights: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int]] = []

    def probe(host: str, port: int, timeout: float = 2.0) -> bool:
        calls.append((host, port))
        return False

    monkeypatch.setattr(hub, "probe", probe)
    cfg = parse_config({
        "output_dir": str(no_local_weights / "out"), "examples": 0, "metrics": ["core.auroc"],
        "detectors": [{"id": "vision.patchcore", "params": {"image_size": 32}}],  # default weights='imagenet'
        "datasets": [{"id": "vision.synthetic", "params": SMALL_SYNTHETIC}],
    })
    record = run(cfg, progress=False).records[0]
    assert calls == [("huggingface.co", 443)]  # once for three subsets
    assert record["status"] == "failed" and len(record["subsets"]) == 3
    for sub in record["subsets"]:
        assert "no ImageNet weights for 'wide_resnet50_2'" in sub["error"]
        assert "huggingface.co:443 not reachable" in sub["error"]


def test_offline_still_loads_weights_from_the_hub_cache(no_local_weights: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import timm
    from safetensors.torch import save_file

    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    torch.manual_seed(3)
    reference = timm.create_model("resnet18", pretrained=False)
    repo = timm.models.get_pretrained_cfg("resnet18").hf_hub_id
    snapshot = no_local_weights / "hf-cache" / f"models--{repo.replace('/', '--')}" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("abc123")
    save_file({k: v.contiguous() for k, v in reference.state_dict().items()}, str(snapshot / "model.safetensors"))
    fx = create_feature_extractor("resnet18", ["layer1"], weights="imagenet")
    torch.testing.assert_close(fx.model.conv1.weight, reference.conv1.weight.to(memory_format=torch.channels_last))


def test_random_weights_have_a_spelling_every_config_format_has() -> None:
    for value in ("random", "Random", None):
        assert PatchCoreParams.model_validate({"weights": value}).weights == "random"
    assert "'random' = random initialisation" in PatchCoreParams.model_fields["weights"].description
    torch.manual_seed(0)
    a = create_feature_extractor("resnet18", ["layer1"], weights="random")
    torch.manual_seed(0)
    b = create_feature_extractor("resnet18", ["layer1"], weights=None)
    torch.testing.assert_close(a.model.conv1.weight, b.model.conv1.weight)


def test_toml_grid_with_random_weights_validates_and_runs(tmp_path: Path) -> None:
    config = tmp_path / "grid.toml"
    config.write_text(f"""
output_dir = "{tmp_path / 'out'}"
examples = 0
metrics = ["core.auroc"]

[[detectors]]
id = "vision.patchcore"
params = {{ backbone = "resnet18", layers = ["layer1", "layer2"], image_size = 32 }}
grid = {{ weights = ["random"] }}

[[datasets]]
id = "vision.synthetic"
params = {{ textures = ["stripes"], n_train = 4, n_test_normal = 2, n_test_anomalous = 2, image_size = 32 }}
""")
    record = run(load_config(config), progress=False).records[0]
    assert record["status"] == "ok", record.get("error")
    assert record["detector"]["params"]["weights"] == "random"
