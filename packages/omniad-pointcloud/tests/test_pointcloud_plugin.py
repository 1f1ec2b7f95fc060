"""The plugin as a whole: ids under its own prefix, cheap discovery, demo entries that pair."""

from __future__ import annotations

import subprocess
import sys

from omniad.plugins import get_registry
from omniad.runner.demo import demo_config
from omniad.runner.jobs import plan

HEAVY = ("torch", "av", "tifffile", "open3d", "scipy", "sklearn", "timm", "torchvision", "PIL")


def test_every_component_is_registered_under_the_prefix() -> None:
    entries = [e for e in get_registry().list() if e.plugin == "pointcloud"]
    kinds = {e.kind for e in entries}
    assert kinds == {"detector", "dataset", "metric"}, kinds
    assert all(e.id.startswith("pointcloud.") for e in entries)
    assert all(e.card.modality == "pointcloud" for e in entries)


def test_discovery_imports_nothing_heavy() -> None:
    code = (
        "import sys, omniad\n"
        "for e in omniad.get_registry().list():\n"
        "    if e.plugin == 'pointcloud': e.params_model()\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_demo_entries_form_a_grid(tmp_path) -> None:
    config = demo_config(get_registry(), tmp_path, modality="pointcloud")
    assert config.detectors and config.datasets
    jobs = plan(config, get_registry())
    detectors = {j.detector.id for j in jobs}
    assert detectors == {d.id for d in config.detectors}, "every demo detector meets a demo dataset"
