"""What goes wrong on a cluster becomes a failed record that says why, never a hang."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from omniad import plugins
from omniad.cli import main
from omniad.errors import ConfigError
from omniad.runner.config import parse_config
from omniad.runner.run import run

pytestmark = pytest.mark.usefixtures("ray_session")
BLOBS = {"id": "core.blobs", "params": {"n_train": 60, "n_test_normal": 30, "n_test_anomalous": 6}}


def config(output_dir: Path, detectors: list[dict[str, Any]], **extra: Any) -> Any:
    return parse_config({"output_dir": str(output_dir), "executor": "ray", "examples": 0,
                         "detectors": detectors, "datasets": [BLOBS], **extra})


def test_a_dead_worker_fails_its_job_with_the_cause_and_reruns_per_policy(tmp_path: Path) -> None:
    cfg = config(tmp_path, [{"id": "raytest.slow", "params": {"crash": True}}, {"id": "core.knn"}])
    result = run(cfg, progress=False)
    by_id = {r["detector"]["id"]: r for r in result.records}
    assert by_id["core.knn"]["status"] == "ok"  # the other job is unharmed
    crashed = by_id["raytest.slow"]
    assert crashed["status"] == "failed"
    assert crashed["error"].startswith("Ray task lost: ") and "died" in crashed["error"].lower()
    assert run(cfg, progress=False).ran == 1  # rerun = "failed": only the crashed job again
    never = config(tmp_path, [{"id": "raytest.slow", "params": {"crash": True}}, {"id": "core.knn"}], rerun="never")
    assert run(never, progress=False).ran == 0


def test_a_component_missing_on_the_workers_fails_in_one_clear_line(
    tmp_path: Path, fresh_registry: None, plugin_writer: Callable[[Path, str], None]
) -> None:
    # installed for the driver only: Ray's workers were started before this path existed
    driver_only = tmp_path / "driver-only"
    plugin_writer(driver_only, "driveronly")
    sys.path.insert(0, str(driver_only))
    try:
        plugins.reset()
        result = run(config(tmp_path / "out", [{"id": "driveronly.slow"}, {"id": "core.knn"}]), progress=False)
    finally:
        sys.path.remove(str(driver_only))
    by_id = {r["detector"]["id"]: r for r in result.records}
    assert by_id["core.knn"]["status"] == "ok"
    error = by_id["driveronly.slow"]["error"]
    assert by_id["driveronly.slow"]["status"] == "failed"
    assert "detector 'driveronly.slow' (plugin driveronly 0.0.1 on the driver) is not installed on Ray worker" in error
    assert "install the same plugins on every node" in error
    assert "\n" not in error


def test_a_request_no_node_can_meet_fails_instead_of_waiting_forever(tmp_path: Path) -> None:
    cfg = config(tmp_path, [{"id": "core.knn"}, {"id": "core.mahalanobis"}],
                 resources={"memory_mb_by_id": {"core.knn": 10**9}})
    by_id = {r["detector"]["id"]: r for r in run(cfg, progress=False).records}
    assert by_id["core.mahalanobis"]["status"] == "ok"
    assert by_id["core.knn"]["status"] == "failed"
    assert "MB of memory but the largest Ray node has" in by_id["core.knn"]["error"]


def test_address_without_the_ray_executor_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="address 'auto' is only used by executor = 'ray'"):
        parse_config({"output_dir": str(tmp_path), "address": "auto",
                      "detectors": [{"id": "core.knn"}], "datasets": [BLOBS]})
    with pytest.raises(ConfigError, match="memory hints must be >= 1 MB"):
        config(tmp_path, [{"id": "core.knn"}], resources={"memory_mb_by_id": {"core.knn": 0}})


def test_cli_runs_on_ray(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "grid.toml"
    cfg.write_text(f'output_dir = "{tmp_path / "out"}"\nexamples = 0\n[[detectors]]\nid = "core.knn"\n'
                   '[[datasets]]\nid = "core.blobs"\nparams = { n_train = 60, n_test_normal = 30, n_test_anomalous = 6 }\n')
    assert main(["run", str(cfg), "--executor", "ray", "--no-progress"]) == 0
    assert len(list((tmp_path / "out" / "jobs").glob("*.json"))) == 1
    assert main(["run", str(cfg), "--address", "auto", "--no-progress"]) == 2  # inline with an address
    assert "only used by executor = 'ray'" in capsys.readouterr().err
