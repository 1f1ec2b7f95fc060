"""Every package installed together: all plugins load strictly, discovery stays light."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

EXPECTED_PLUGINS = {"omniad", "timeseries", "vision", "template", "pyod"}


def omniad(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "omniad", *args], capture_output=True, text=True, timeout=300)


def test_all_plugins_load_without_errors() -> None:
    proc = omniad("plugins", "--json")
    assert proc.returncode == 0, proc.stderr
    infos = {p["name"]: p for p in json.loads(proc.stdout)}
    assert set(infos) >= EXPECTED_PLUGINS, f"missing plugins: {EXPECTED_PLUGINS - set(infos)}"
    broken = {n: p["error"] for n, p in infos.items() if p["status"] not in ("builtin", "loaded")}
    assert not broken, broken
    for name in EXPECTED_PLUGINS:
        assert infos[name]["components"], f"plugin {name} registered nothing"


def test_list_shows_template_components() -> None:
    proc = omniad("list", "--json")
    ids = {c["id"] for c in json.loads(proc.stdout)}
    template = {i for i in ids if i.startswith("template.")}
    assert len(template) >= 3, template


def test_listing_everything_imports_no_heavy_module() -> None:
    code = (
        "import sys\n"
        "from omniad.cli import main\n"
        "main(['list'])\n"
        "import omniad\n"
        "for e in omniad.get_registry().list():\n"
        "    e.params_model()\n"
        "heavy = [m for m in ('torch', 'timm', 'transformers', 'sklearn', 'pyod', 'sktime', 'tslearn', 'stumpy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.parametrize("kind", ["detector", "dataset", "metric"])
def test_every_component_resolves(kind: str) -> None:
    """Every registered target and parameter model imports (catches typos in cards)."""
    import omniad

    registry = omniad.get_registry()
    problems = []
    for entry in registry.list(kind):  # type: ignore[arg-type]
        try:
            cls = entry.load()
            if entry.params_model() is not cls.Params:
                problems.append(f"{entry.id}: card params != class Params")
        except Exception as exc:
            problems.append(f"{entry.id}: {exc}")
    assert not problems, problems
