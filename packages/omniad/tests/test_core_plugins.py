"""Plugin loading: isolation, strict mode, switches, duplicate ids, laziness."""

from __future__ import annotations

import subprocess
import sys

import pytest

from omniad import plugins
from omniad.errors import PluginLoadError

GOOD = """
from omniad import hookimpl

@hookimpl
def omniad_register_detectors(registry):
    registry.add(id="good.knn2", target="omniad.builtins.tabular_detectors:KNN",
                 params="omniad.builtins.tabular_detectors:KNNParams", modality="tabular", summary="x")
"""
BROKEN_IMPORT = "raise RuntimeError('CUDA driver mismatch')\n"
BROKEN_HOOK = """
from omniad import hookimpl

@hookimpl
def omniad_register_detectors(registry):
    raise ValueError('bug in my hook')
"""
DUPLICATE = """
from omniad import hookimpl

@hookimpl
def omniad_register_detectors(registry):
    registry.add(id="core.knn", target="omniad.builtins.tabular_detectors:KNN", modality="tabular", summary="dup")
    registry.add(id="dup.other", target="omniad.builtins.tabular_detectors:KNN", modality="tabular", summary="ok")
"""


def test_broken_plugins_are_isolated(make_plugin) -> None:
    make_plugin("good", GOOD)
    make_plugin("badimport", BROKEN_IMPORT)
    make_plugin("badhook", BROKEN_HOOK)
    registry = plugins.get_registry()
    infos = plugins.get_plugin_manager().plugins
    assert ("detector", "good.knn2") in registry
    assert ("detector", "core.knn") in registry
    assert infos["badimport"].status == "failed" and "CUDA driver mismatch" in infos["badimport"].error
    assert infos["badhook"].status == "failed" and "bug in my hook" in infos["badhook"].error
    assert infos["good"].status == "loaded" and infos["good"].version == "1.2.3"
    assert infos["good"].components == {"detector": ["good.knn2"]}


def test_strict_mode_raises(make_plugin, monkeypatch) -> None:
    make_plugin("badimport", BROKEN_IMPORT)
    monkeypatch.setenv("OMNIAD_STRICT_PLUGINS", "1")
    with pytest.raises(PluginLoadError, match="badimport.*CUDA driver mismatch"):
        plugins.PluginManager()


def test_taking_a_builtin_id_fails_the_whole_plugin(make_plugin) -> None:
    """Registration is all or nothing: the plugin's valid id is not kept either."""
    make_plugin("dup", DUPLICATE)
    registry = plugins.get_registry()
    assert registry.get("detector", "core.knn").plugin == "omniad"
    assert ("detector", "dup.other") not in registry
    info = plugins.get_plugin_manager().plugins["dup"]
    assert info.status == "failed" and info.components == {}
    assert "omniad_register_detectors" in info.error
    assert "detector id 'core.knn' is outside its id prefixes ('dup.')" in info.error


def test_disable_and_load_switches(make_plugin, monkeypatch) -> None:
    make_plugin("good", GOOD)
    make_plugin("badimport", BROKEN_IMPORT)
    monkeypatch.setenv("OMNIAD_DISABLE_PLUGINS", "badimport")
    manager = plugins.PluginManager()
    assert manager.plugins["badimport"].status == "disabled"
    assert manager.plugins["good"].status == "loaded"
    monkeypatch.delenv("OMNIAD_DISABLE_PLUGINS")
    monkeypatch.setenv("OMNIAD_LOAD_PLUGINS", "")
    manager = plugins.PluginManager()
    assert {p.status for n, p in manager.plugins.items() if n != "omniad"} == {"disabled"}
    monkeypatch.delenv("OMNIAD_LOAD_PLUGINS")
    monkeypatch.setenv("OMNIAD_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert list(plugins.PluginManager().plugins) == ["omniad"]


def test_cli_survives_a_broken_plugin(make_plugin, tmp_path) -> None:
    make_plugin("badimport", BROKEN_IMPORT)
    env = {"PYTHONPATH": str(tmp_path), "PATH": ""}
    proc = subprocess.run([sys.executable, "-m", "omniad", "plugins"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "badimport" in proc.stdout and "CUDA driver mismatch" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "omniad", "plugins", "--strict"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1


def test_discovery_and_listing_import_no_torch() -> None:
    code = (
        "import sys\n"
        "from omniad.cli import main\n"
        "main(['list'])\n"
        "heavy = [m for m in ('torch', 'timm', 'transformers', 'sklearn', 'pandas') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_fit_imports_and_seeds_torch_only_for_detectors_that_use_it() -> None:
    """A fresh process: a torch-free detector's fit leaves torch unimported; one with ``uses_torch``
    gets torch seeded with its own seed before ``_fit`` (torch seeds itself at random per process)."""
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from omniad.detector import Detector\n"
        "class Plain(Detector):\n"
        "    def _fit(self, samples):\n"
        "        self.mean_ = float(np.mean(samples))\n"
        "    def _score(self, samples):\n"
        "        return np.abs(np.asarray(samples, float) - self.mean_)\n"
        "class Torchy(Plain):\n"
        "    uses_torch = True\n"
        "    def _fit(self, samples):\n"
        "        import torch\n"
        "        self.seen_ = torch.initial_seed()\n"
        "        super()._fit(samples)\n"
        "Plain(seed=7).fit([1.0, 2.0])\n"
        "assert 'torch' not in sys.modules, 'a torch-free fit imported torch'\n"
        "import importlib.util\n"
        "if importlib.util.find_spec('torch') is None:\n"
        "    print('no torch')\n"
        "    raise SystemExit(0)\n"
        "print('seen', Torchy(seed=7).fit([1.0, 2.0]).seen_)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() in ("no torch", "seen 7"), proc.stdout
