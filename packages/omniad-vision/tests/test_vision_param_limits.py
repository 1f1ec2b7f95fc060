"""Vision parameters and metrics the data cannot support fail with the limit, not a silent clamp."""

from __future__ import annotations

import pytest

import omniad
from omniad.errors import ConfigError, DataError
from omniad.plugins import get_registry
from omniad.runner import parse_config
from omniad.runner.jobs import plan
from omniad_vision.testing import TINY_BACKBONE, tiny_subset


def test_patchcore_num_neighbors_beyond_the_memory_bank_fails() -> None:
    subset = tiny_subset("stripes", n_train=2, n_normal=1, n_anomalous=1, size=48)
    det = omniad.create_detector("vision.patchcore", {**TINY_BACKBONE, "coreset_ratio": 0.01, "num_neighbors": 10_000},
                                 device="cpu")
    with pytest.raises(DataError, match=r"num_neighbors=10000 but the memory bank has only \d+ patches; use at most"):
        det.fit(subset.train.samples)


@pytest.mark.parametrize(
    ("dataset", "needle"),
    [
        ("core.blobs", "vision.aupro needs per-pixel targets (localization 'pixel'); dataset core.blobs has none"),
        ("timeseries.synthetic", "vision.aupro needs per-pixel targets (localization 'pixel'); "
                                 "dataset timeseries.synthetic has localization 'timestep'"),
    ],
)
def test_aupro_on_a_dataset_without_pixel_masks_fails_at_plan_time(dataset, needle) -> None:
    if ("dataset", dataset) not in get_registry():
        pytest.skip(f"{dataset} is not installed")
    cfg = parse_config({"detectors": [{"id": "core.random"}], "datasets": [{"id": dataset}],
                        "metrics": ["vision.aupro"], "pairing": "all"})
    with pytest.raises(ConfigError) as info:
        plan(cfg, get_registry())
    assert needle in str(info.value)


def test_default_dataset_roots_pass_the_path_check(tmp_path) -> None:
    grid = {"detectors": [{"id": "vision.patchcore"}], "metrics": ["vision.aupro"]}
    assert plan(parse_config({**grid, "datasets": [{"id": "vision.mvtec"}]}), get_registry())
    missing = {"id": "vision.folder", "params": {"normal_dir": str(tmp_path / "good"), "abnormal_dir": str(tmp_path / "bad")}}
    with pytest.raises(ConfigError) as info:
        plan(parse_config({**grid, "datasets": [missing]}), get_registry())
    assert "parameter 'normal_dir'" in str(info.value) and "parameter 'abnormal_dir'" in str(info.value)
