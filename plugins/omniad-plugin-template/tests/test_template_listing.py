"""The plugin is discovered through its entry point and listed by the ``omniad`` CLI.

Names come from the package itself (the prefix from ``plugin.OMNIAD_PREFIXES``, the plugin
name from the installed entry point, the ids from what ``plugin.py``'s hooks register), so
a renamed copy of the template passes unchanged, and so does one with components added.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import omniad
import omniad_plugin_template
from omniad.plugins import get_plugin_manager
from omniad.registry import KINDS, Registrar, Registry
from omniad_plugin_template import plugin
from omniad_plugin_template.plugin import PREFIX


def hook_ids() -> set[tuple[str, str]]:
    """(kind, id) of every card ``plugin.py``'s hooks add, read by calling them on a scratch registry."""
    scratch = Registry()
    for kind in KINDS:
        hook = getattr(plugin, f"omniad_register_{kind}s", None)
        if hook is not None:
            hook(Registrar(scratch, kind, plugin.__name__, None, plugin.OMNIAD_PREFIXES))
    return {(entry.card.kind, entry.id) for entry in scratch.list()}


IDS = hook_ids()


def plugin_name() -> str:
    """The left side of this package's ``[project.entry-points.omniad]`` line."""
    names = {ep.name for ep in entry_points(group="omniad") if ep.value == plugin.__name__}
    assert len(names) == 1, (
        f"expected one installed 'omniad' entry point for {plugin.__name__}, found {sorted(names)}; "
        "install the package (pip install -e .) after editing pyproject.toml"
    )
    return names.pop()


def test_plugin_owns_its_prefix() -> None:
    omniad.get_registry()  # prefixes are claimed and hooks run when the registry is built
    info = get_plugin_manager().plugins[plugin_name()]
    assert info.status == "loaded", info.error
    assert info.prefixes == plugin.OMNIAD_PREFIXES


def test_registry_has_the_template_components() -> None:
    assert IDS, "plugin.py's hooks registered nothing"
    assert all(component_id.startswith(f"{PREFIX}.") for _, component_id in IDS), IDS
    registry = omniad.get_registry()
    for kind, component_id in IDS:
        entry = registry.get(kind, component_id)
        assert entry.plugin == plugin_name()
        assert entry.plugin_version == omniad_plugin_template.__version__


def test_demo_flags() -> None:
    """`omniad demo` runs the plugin: a detector and a dataset have demo=True, with valid demo_params."""
    registry = omniad.get_registry()
    demo = [registry.get(kind, component_id) for kind, component_id in IDS if kind != "metric"]
    demo = [entry for entry in demo if entry.card.demo]
    for kind in ("detector", "dataset"):
        assert any(entry.kind == kind for entry in demo), (
            f"no {kind} of {PREFIX} has demo=True in plugin.py, so `omniad demo` leaves the plugin out; "
            f"flag a small, fast {kind}"
        )
    for entry in demo:
        entry.validate_params(dict(entry.card.demo_params))


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
    listed = {(row["kind"], row["id"]) for row in json.loads(proc.stdout) if row["plugin"] == plugin_name()}
    assert listed == IDS
