"""The plugin is discovered through its entry point and listed by the ``omniad`` CLI."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import omniad

IDS = {
    ("detector", "template.robust_zscore"),
    ("dataset", "template.sparse_shift"),
    ("metric", "template.recall_at_fpr"),
}


def test_registry_has_the_template_components() -> None:
    registry = omniad.get_registry()
    for kind, component_id in IDS:
        entry = registry.get(kind, component_id)
        assert entry.plugin == "template"
        assert entry.plugin_version == "0.1.0"


def test_demo_flags() -> None:
    registry = omniad.get_registry()
    assert registry.get("detector", "template.robust_zscore").card.demo
    assert registry.get("dataset", "template.sparse_shift").card.demo


def omniad_command() -> list[str]:
    """The installed console script if there is one, else the function it calls."""
    script = shutil.which("omniad", path=str(Path(sys.executable).parent))
    if script:
        return [script]
    return [sys.executable, "-c", "import sys; from omniad.cli import main; sys.exit(main(sys.argv[1:]))"]


@pytest.mark.skipif(importlib.util.find_spec("omniad.cli") is None, reason="omniad.cli is not available yet")
def test_omniad_list_shows_the_template_components() -> None:
    proc = subprocess.run(
        [*omniad_command(), "list", "--json"], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-1000:]
    listed = {(row["kind"], row["id"]) for row in json.loads(proc.stdout) if row["plugin"] == "template"}
    assert listed == IDS
