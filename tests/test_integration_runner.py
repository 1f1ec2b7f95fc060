"""The shared runner across every installed plugin: one grid, one table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import omniad


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "d"
    proc = subprocess.run(
        [sys.executable, "-m", "omniad", "demo", "--output-dir", str(out), "--no-progress", "--fail-on-error"],
        capture_output=True, text=True, timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_demo_grid_covers_every_modality(demo_dir: Path) -> None:
    registry = omniad.get_registry()
    records = [json.loads(p.read_text()) for p in (demo_dir / "jobs").glob("*.json")]
    modalities = {registry.get("dataset", r["dataset"]["id"]).card.modality for r in records}
    assert {"tabular", "timeseries", "vision"} <= modalities
    failed = {(r["detector"]["id"], r["dataset"]["id"]): r.get("error") for r in records if r["status"] != "ok"}
    assert not failed, failed
    for record in records:
        assert record["metrics"], record["key"]
    plugins = {registry.get("detector", r["detector"]["id"]).plugin for r in records}
    assert {"omniad", "timeseries", "vision", "template"} <= plugins


def test_demo_outputs_are_readable(demo_dir: Path) -> None:
    md = (demo_dir / "results.md").read_text()
    assert "core.blobs" in md and "timeseries." in md and "vision." in md
    html = (demo_dir / "report.html").read_text()
    assert "<img" in html  # example pictures drawn by the modality datasets
    assert (demo_dir / "results.csv").read_text().count("\n") > 5


def test_rerun_reuses_records(demo_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "grid.toml"
    config.write_text(
        f'output_dir = "{demo_dir}"\nmetrics = ["core.auroc"]\n'
        '[[detectors]]\nid = "core.knn"\n[[datasets]]\nid = "core.blobs"\n'
    )
    proc = subprocess.run([sys.executable, "-m", "omniad", "run", str(config), "--no-progress"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "1 reused" in proc.stderr  # the demo already ran this exact job
