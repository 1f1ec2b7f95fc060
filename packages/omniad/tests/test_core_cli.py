"""The CLI as a user runs it: subprocesses, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def omniad(*args: str, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "omniad", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def test_help_and_list() -> None:
    assert omniad("--help").returncode == 0
    proc = omniad("list", "detectors", "--json")
    ids = {c["id"] for c in json.loads(proc.stdout)}
    assert {"core.knn", "core.mahalanobis", "core.random"} <= ids
    proc = omniad("list", "metrics", "--modality", "tabular")
    assert "core.auroc" in proc.stdout


def test_show_and_unknown_id() -> None:
    proc = omniad("show", "core.knn")
    data = json.loads(proc.stdout)
    assert "n_neighbors" in data["parameters"]
    proc = omniad("show", "core.knnn")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no component with id 'core.knnn'; did you mean core.knn")


def test_run_validate_report(tmp_path) -> None:
    cfg = tmp_path / "grid.toml"
    cfg.write_text(
        f'output_dir = "{tmp_path / "res"}"\n'
        '[[detectors]]\nid = "core.knn"\n[[detectors]]\nid = "core.random"\n'
        '[[datasets]]\nid = "core.blobs"\nparams = { n_train = 50, n_test_normal = 20, n_test_anomalous = 5 }\n'
    )
    assert "valid, 2 jobs" in omniad("validate", str(cfg)).stdout
    proc = omniad("run", str(cfg), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert "core.knn" in proc.stdout and "AUROC" in proc.stdout
    proc = omniad("run", str(cfg), "--no-progress")
    assert "2 reused" in proc.stderr
    (tmp_path / "res" / "results.md").unlink()
    proc = omniad("report", str(tmp_path / "res"))
    assert proc.returncode == 0 and (tmp_path / "res" / "results.md").is_file()


def test_bad_config_is_one_line(tmp_path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("detectors: [{id: core.knn, params: {n_neighbors: -1}}]\ndatasets: [{id: core.blobs}]\n")
    proc = omniad("run", str(cfg))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "n_neighbors" in proc.stderr
    proc = omniad("report", str(tmp_path / "nothing"))
    assert proc.returncode == 2 and "no job records" in proc.stderr


def test_demo_runs_on_builtin_data(tmp_path) -> None:
    # core components only: the demo of every installed package is the integration tests' job
    env = {**os.environ, "OMNIAD_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = omniad("demo", "--output-dir", str(tmp_path / "demo"), "--no-progress", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "core.knn" in proc.stdout and (tmp_path / "demo" / "report.html").is_file()
