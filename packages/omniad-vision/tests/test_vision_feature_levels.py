"""Feature layers follow the backbone: defaults resolved per backbone, explicit layers checked at validation.

Before, ``backbone="mobilenetv2_100"`` kept PatchCore's ResNet ``layer2``/``layer3``: the grid
validated and every job then failed at fit. The static table (``feature_levels``) is checked
against timm here, so it cannot drift from the models it describes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import omniad
from omniad import ConfigError, Detector
from omniad.plugins import get_registry
from omniad.runner import load_config
from omniad.runner.jobs import plan
from omniad_vision.feature_levels import FAMILIES, KNOWN, check_layers, default_layers, known_levels
from omniad_vision.testing import tiny_subset

BACKBONE_DETECTORS = ("vision.patchcore", "vision.padim", "vision.gaussian_mvg", "vision.simplenet")
TINY = {"weights": "random", "image_size": 32, "batch_size": 4}


def timm_levels(name: str) -> tuple[tuple[str, int], ...]:
    import timm

    with torch.device("meta"):  # no weights allocated: only the layout is read
        model = timm.create_model(name, pretrained=False)
    info = model.feature_info
    dicts = info.get_dicts() if hasattr(info, "get_dicts") else info  # some models keep a plain list
    return tuple((str(d["module"]), int(d["reduction"])) for d in dicts)


@pytest.mark.parametrize("name", sorted({
    *(next(n for n, f in KNOWN.items() if f == family) for family in FAMILIES),  # one model per family
    "wide_resnet50_2", "resnet18", "efficientnet_b4", "mobilenetv2_100", "efficientnet_lite0",  # defaults, shared weights
    "mobilenetv3_small_100", "convnext_tiny",
}))
def test_table_matches_timm(name: str) -> None:
    assert known_levels(name) == timm_levels(name)


def test_default_levels_per_stride() -> None:
    assert default_layers(FAMILIES["resnet"], (8, 16)) == ("layer2", "layer3")
    assert default_layers(FAMILIES["efficientnet"], (4, 8, 16)) == ("blocks.1", "blocks.2", "blocks.4")
    assert default_layers(FAMILIES["mobilenetv3_small"], (8, 16)) == ("blocks.1", "blocks.3")
    assert default_layers(FAMILIES["convnext"], None) == ("stages.0", "stages.1", "stages.2", "stages.3")
    vit = tuple((f"blocks.{i}", 16) for i in range(12))
    assert default_layers(vit, (8, 16)) == ("blocks.11",)  # one stride only: its deepest block
    assert default_layers(vit, (4,)) == ()
    assert known_levels("resnet18.a1_in1k") == FAMILIES["resnet"]  # pretrained tags share the layout
    assert known_levels("no_such_model") is None
    check_layers("no_such_model", ("anything",))  # unknown backbones are left to fit


@pytest.mark.parametrize("detector_id", BACKBONE_DETECTORS)
def test_resnet_layers_on_a_mobilenet_fail_validation_naming_its_layers(detector_id: str) -> None:
    with pytest.raises(ConfigError) as info:
        omniad.create_detector(detector_id, {"backbone": "mobilenetv2_100", "layers": ["layer2", "layer3"]})
    message = str(info.value)
    assert "backbone 'mobilenetv2_100' has no feature layer 'layer2'" in message
    assert "blocks.0, blocks.1, blocks.2, blocks.4, blocks.6" in message
    # the default follows the backbone instead of keeping another family's names
    assert omniad.create_detector(detector_id, {"backbone": "mobilenetv2_100"}).params.layers is None


@pytest.mark.parametrize(("layers", "message"), [
    (["blocks.4", "blocks.2"], "from shallow to deep"),
    (["blocks.2", "2"], "listed twice"),
    (["7"], "no feature layer index 7"),
    ([], "at least one feature layer"),
])
def test_explicit_layer_problems_are_validation_errors(layers: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        omniad.create_detector("vision.patchcore", {"backbone": "mobilenetv2_100", "layers": layers})


def test_omniad_validate_rejects_layers_the_backbone_lacks(tmp_path: Path) -> None:
    """What `omniad validate` runs: the whole grid planned, no job started."""
    def config(params: str) -> object:
        path = tmp_path / "grid.toml"
        path.write_text(f"""
output_dir = "{tmp_path / 'out'}"
[[detectors]]
id = "vision.patchcore"
params = {{ {params} }}
[[datasets]]
id = "vision.synthetic"
""")
        return load_config(path)
    with pytest.raises(ConfigError, match=r"backbone 'mobilenetv2_100' has no feature layer 'layer2'; its feature layers are blocks\.0"):
        plan(config('backbone = "mobilenetv2_100", layers = ["layer2", "layer3"]'), get_registry())
    assert plan(config('backbone = "mobilenetv2_100"'), get_registry())


def test_efficientad_and_their_teacher_layers_follow_the_backbone() -> None:
    with pytest.raises(ConfigError, match="backbone 'resnet18' has no feature layer 'blocks.2'; its feature layers are act1"):
        omniad.create_detector("vision.efficientad", {"backbone": "resnet18", "backbone_layers": ["blocks.2", "blocks.4"]})
    assert omniad.create_detector("vision.efficientad", {"backbone": "resnet18"}).params.backbone_layers is None


@pytest.mark.parametrize(("detector_id", "backbone", "expected"), [
    ("vision.patchcore", "mobilenetv2_100", ["blocks.2", "blocks.4"]),
    ("vision.patchcore", "resnet18", ["layer2", "layer3"]),
    ("vision.padim", "resnet18", ["layer1", "layer2", "layer3"]),
    ("vision.gaussian_mvg", "resnet18", ["act1", "layer1", "layer2", "layer3", "layer4"]),
])
def test_default_layers_are_resolved_recorded_and_saved(detector_id: str, backbone: str, expected: list[str],
                                                        tmp_path: Path) -> None:
    subset = tiny_subset(n_train=4, n_normal=1, n_anomalous=1, size=32)
    extra = {"n_features": 16} if detector_id == "vision.padim" else {}
    det = omniad.create_detector(detector_id, {"backbone": backbone, **TINY, **extra}, device="cpu", seed=0)
    det.fit(subset.train.samples)
    assert det.provenance()["layers"] == expected
    assert det.provenance()["layers_from"] == "backbone default"
    before = det.score(subset.test.samples).sample
    det.save(tmp_path / "model")
    loaded = Detector.load(tmp_path / "model", device="cpu")
    assert loaded.layers_ == expected and loaded.params.layers is None
    np.testing.assert_allclose(loaded.score(subset.test.samples).sample, before, rtol=1e-5, atol=1e-5)


def test_unknown_backbone_layers_are_checked_at_fit() -> None:
    """A backbone the table does not know (regnetx_002) passes validation; fit names its layers."""
    assert known_levels("regnetx_002") is None
    det = omniad.create_detector("vision.patchcore", {"backbone": "regnetx_002", "layers": ["layer2"], **TINY},
                                 device="cpu")
    with pytest.raises(ConfigError, match=r"backbone 'regnetx_002' has no feature layer 'layer2'; available: stem, s1"):
        det.fit(tiny_subset(n_train=2, size=32).train.samples)
    default = omniad.create_detector("vision.patchcore", {"backbone": "regnetx_002", **TINY}, device="cpu", seed=0)
    default.fit(tiny_subset(n_train=2, size=32).train.samples)
    assert default.provenance()["layers"] == ["s2", "s3"]  # its stride-8 and stride-16 stages
