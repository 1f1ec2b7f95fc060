"""Parameters the data is too small for: a user's value fails, a default is lowered and recorded."""

from __future__ import annotations

import numpy as np
import pytest

from omniad.errors import DataError
from omniad.plugins import get_registry
from omniad.runner import execute_job, parse_config
from omniad.runner.jobs import plan


def series(length: int, seed: int = 0) -> np.ndarray:
    t = np.arange(length)
    return np.sin(2 * np.pi * t / 10) + 0.05 * np.random.default_rng(seed).normal(size=length)


def make(detector_id: str, **params):
    entry = get_registry().get("detector", detector_id)
    window = {"window": 10} if "window" in entry.params_model().model_fields else {}
    return entry.create({**window, **params})


@pytest.mark.parametrize(
    ("detector_id", "params", "needle"),
    [
        ("timeseries.sub_knn", {"n_neighbors": 1_000_000_000},
         "n_neighbors=1000000000 but this subset has only 200 training windows; use at most 199"),
        ("timeseries.sub_lof", {"n_neighbors": 500}, "n_neighbors=500 but this subset has only 200 training windows"),
        ("timeseries.lof", {"n_neighbors": 500}, "n_neighbors=500 but this subset has only"),
        ("timeseries.kmeansad", {"n_clusters": 1000}, "n_clusters=1000 but this subset has only 200 training windows"),
        ("timeseries.sub_pca", {"n_components": 50}, "n_components=50 but 200 training windows of 10"),
        ("timeseries.sr", {"amp_window": 500}, "amp_window=500 but a series of 209 timesteps has 104 frequencies"),
        ("timeseries.poly", {"neighborhood": 5000}, "neighborhood=5000 but the series has only 209 timesteps"),
        ("timeseries.stray", {"k": 500}, "k=500 but this series has only 200 windows; use at most 199"),
    ],
)
def test_a_user_value_beyond_the_data_fails_naming_the_limit(detector_id, params, needle) -> None:
    if detector_id == "timeseries.lof":
        params = {**params, "window": 1}
        needle = "n_neighbors=500 but this subset has only 209 training windows; use at most 208"
    entry = get_registry().get("detector", detector_id)
    if entry.missing_requirements():
        pytest.skip(f"{detector_id} needs {entry.missing_requirements()}")
    det = make(detector_id, **params)
    with pytest.raises(DataError) as info:
        det.fit([series(209)])
        det.score([series(209, seed=1)])
    assert needle in str(info.value)


def test_a_default_beyond_the_data_is_lowered_and_recorded() -> None:
    det = make("timeseries.sub_knn").fit([series(30)])  # 21 windows; the default n_neighbors is 50
    assert det.adjusted_params["n_neighbors"] == {
        "requested": 50, "used": 20, "why": "this subset has only 21 training windows",
    }
    same = make("timeseries.sub_knn", n_neighbors=20).fit([series(30)])
    test = [series(60, seed=2)]
    np.testing.assert_allclose(det.score(test).sample, same.score(test).sample)


def test_the_issue_grid_fails_instead_of_reporting_a_clamped_run() -> None:
    cfg = parse_config({
        "detectors": [{"id": "timeseries.sub_knn", "params": {"n_neighbors": 1_000_000_000, "window": 20}}],
        "datasets": [{"id": "timeseries.synthetic",
                      "params": {"n_series": 1, "length": 800, "train_length": 200, "period": 40}}],
        "metrics": ["timeseries.vus_pr"],
    })
    record = execute_job(plan(cfg, get_registry())[0])
    assert record["status"] == "failed"
    assert "n_neighbors=1000000000 but this subset has only 781 training windows; use at most 780" in record["error"]


def test_time_series_metrics_on_a_dataset_without_timesteps_fail_at_plan_time() -> None:
    from omniad.errors import ConfigError

    cfg = parse_config({"detectors": [{"id": "core.knn"}], "datasets": [{"id": "core.blobs"}],
                        "metrics": ["timeseries.vus_pr"]})
    with pytest.raises(ConfigError, match=r"timeseries.vus_pr needs per-timestep targets \(localization 'timestep'\); "
                                          "dataset core.blobs has none"):
        plan(cfg, get_registry())


def test_shared_data_defaults_pass_the_path_check_and_explicit_missing_roots_do_not(tmp_path) -> None:
    from omniad.errors import ConfigError

    grid = {"detectors": [{"id": "timeseries.sub_knn"}], "metrics": ["timeseries.vus_pr"]}
    assert plan(parse_config({**grid, "datasets": [{"id": "timeseries.nab"}]}), get_registry())
    with pytest.raises(ConfigError, match="parameter 'root': .*no_nab does not exist"):
        plan(parse_config({**grid, "datasets": [{"id": "timeseries.nab", "params": {"root": str(tmp_path / "no_nab")}}]}),
             get_registry())
