"""Vision frame features follow their backbone, and saved frame models are checked against what they score.

``layers`` used to default to MobileNet names whatever ``features='vision:<backbone>'`` said, so
a ResNet failed every job at fit; now None means the backbone's own levels, and explicit layers
the backbone lacks fail at parameter validation. A saved bank of another width fails at load
(pixel features fix the width) or with a clear message at score (a backbone decides it).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from omniad.detector import Detector
from omniad.errors import ConfigError, DataError
from omniad.plugins import get_registry
from omniad_video.samples import FrameVideo


def videos(n: int, length: int = 10, seed: int = 0) -> list[FrameVideo]:
    rng = np.random.default_rng(seed)
    return [FrameVideo(frames=rng.integers(0, 255, (length, 24, 24, 3), dtype=np.uint8), name=f"v{i}") for i in range(n)]


def create(detector_id: str, params: dict) -> Detector:
    return get_registry().get("detector", detector_id).create(params, device="cpu", seed=0)


def test_layers_the_backbone_lacks_fail_validation_naming_its_layers() -> None:
    with pytest.raises(ConfigError) as info:
        create("video.frame_knn", {"features": "vision:resnet18", "layers": ["blocks.2", "blocks.4"]})
    assert "backbone 'resnet18' has no feature layer 'blocks.2'; its feature layers are act1, layer1" in str(info.value)
    assert create("video.frame_knn", {"features": "vision:resnet18"}).params.layers is None


def test_default_layers_follow_the_backbone_and_are_recorded() -> None:
    for backbone, expected in (("resnet18", ["layer2", "layer3"]), ("mobilenetv2_100", ["blocks.2", "blocks.4"])):
        det = create("video.frame_knn", {"features": f"vision:{backbone}", "weights": "random", "image_size": 32, "k": 1})
        det.fit(videos(1))
        assert det.provenance()["layers"] == expected
        assert det.provenance()["layers_from"] == "backbone default"


def _widen_bank(folder: Path) -> None:
    arrays = load_file(str(folder / "arrays.safetensors"))
    bank = arrays["bank_"]
    arrays["bank_"] = np.ascontiguousarray(np.concatenate([bank, np.zeros((len(bank), 1), bank.dtype)], axis=1))
    save_file(arrays, str(folder / "arrays.safetensors"))


def test_pixel_bank_of_another_width_fails_at_load(tmp_path: Path) -> None:
    det = create("video.frame_knn", {"pixel_size": 6, "k": 2}).fit(videos(2))
    _widen_bank(det.save(tmp_path / "m"))
    with pytest.raises(DataError, match=r"73-wide frame vectors but pixel_size=6, motion=True make 72"):
        Detector.load(tmp_path / "m", device="cpu")


def test_backbone_bank_of_another_width_fails_clearly_at_score(tmp_path: Path) -> None:
    params = {"features": "vision:mobilenetv2_100", "weights": "random", "image_size": 32, "k": 1}
    det = create("video.frame_knn", params).fit(videos(1))
    _widen_bank(det.save(tmp_path / "m"))
    loaded = Detector.load(tmp_path / "m", device="cpu")  # the backbone decides the width: (32 + 96) x 2 with motion
    with pytest.raises(DataError, match=r"gives 256-wide frame features but the detector was fitted on 257-wide"):
        loaded.score(videos(1, seed=1))


def test_saved_k_must_match_the_parameters(tmp_path: Path) -> None:
    det = create("video.frame_knn", {"pixel_size": 6, "k": 2}).fit(videos(2))
    folder = det.save(tmp_path / "m")
    state = json.loads((folder / "state.json").read_text())
    state["k_"] = 5
    (folder / "state.json").write_text(json.dumps(state))
    with pytest.raises(DataError, match=r"saved k_=5 but k=2"):
        Detector.load(folder, device="cpu")
