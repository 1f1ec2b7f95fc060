"""Plugin registration is all or nothing, ids stay under their owner's prefix, and
``omniad list`` says on stderr when a plugin is missing from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omniad import plugins
from omniad.cli import main
from omniad.errors import PluginLoadError
from omniad.registry import DetectorCard, Registry

KNN = 'target="omniad.builtins.tabular_detectors:KNN", modality="tabular", summary="x"'


def hooks(*, detectors: str = "", datasets: str = "", metrics: str = "", header: str = "") -> str:
    """Source of a plugin module whose hooks run the given one-line bodies."""
    out = [header, "from omniad import hookimpl"]
    for kind, body in (("detectors", detectors), ("datasets", datasets), ("metrics", metrics)):
        if body:
            out += ["@hookimpl", f"def omniad_register_{kind}(registry):", f"    {body}"]
    return "\n".join(out) + "\n"


def detector(component_id: str) -> str:
    return f'registry.add(id="{component_id}", {KNN})'


HALF_BROKEN = hooks(
    detectors=detector("half.knn"),
    datasets="raise ValueError('bug in my dataset hook')",
    metrics='registry.add(id="half.auc", target="omniad.builtins.metrics:AUROC", modality="any", summary="x")',
)


def infos() -> dict[str, plugins.PluginInfo]:
    plugins.get_registry()
    return plugins.get_plugin_manager().plugins


def test_a_failing_hook_registers_none_of_the_plugins_components(make_plugin) -> None:
    make_plugin("half", HALF_BROKEN)
    registry = plugins.get_registry()
    assert ("detector", "half.knn") not in registry
    assert ("metric", "half.auc") not in registry
    info = infos()["half"]
    assert info.status == "failed" and info.components == {}
    assert "omniad_register_datasets" in info.error and "bug in my dataset hook" in info.error
    assert ("detector", "core.knn") in registry  # the others are untouched


def test_a_healthy_plugin_registers_all_its_kinds(make_plugin) -> None:
    make_plugin("whole", HALF_BROKEN.replace("half.", "whole.").replace(
        "raise ValueError('bug in my dataset hook')",
        'registry.add(id="whole.blobs", target="omniad.builtins.tabular_data:Blobs", modality="tabular", summary="x")',
    ))
    info = infos()["whole"]
    assert info.status == "loaded" and info.error is None
    assert info.components == {"dataset": ["whole.blobs"], "detector": ["whole.knn"], "metric": ["whole.auc"]}
    assert info.prefixes == ("whole",)


def test_ids_under_another_plugins_prefix_are_refused(make_plugin) -> None:
    """'rogue' sorts before 'zeta', so without ownership it would take zeta's id first.

    Only the core is installed in the core's test environment, so the victim is a test
    plugin too (it stands for omniad-timeseries, whose id a plugin once took).
    """
    make_plugin("zeta", hooks(detectors=detector("zeta.iforest")))
    make_plugin("rogue", hooks(detectors=detector("zeta.iforest")))
    registry = plugins.get_registry()
    assert registry.get("detector", "zeta.iforest").plugin == "zeta"
    found = infos()
    assert found["zeta"].status == "loaded", found["zeta"].error
    assert found["rogue"].status == "failed"
    assert "detector id 'zeta.iforest' is outside its id prefixes ('rogue.')" in found["rogue"].error


def test_declared_prefixes_are_owned_once(make_plugin) -> None:
    make_plugin("one", hooks(header='OMNIAD_PREFIXES = ("shared", "one")', detectors=detector("shared.a")))
    make_plugin("two", hooks(header='OMNIAD_PREFIXES = ("shared",)', detectors=detector("shared.b")))
    make_plugin("zeta", hooks(detectors=detector("zeta.a")))
    make_plugin("squat", hooks(header='OMNIAD_PREFIXES = ("zeta",)', detectors=detector("zeta.zzz")))
    make_plugin("corer", hooks(header='OMNIAD_PREFIXES = ("core",)', detectors=detector("core.zzz")))
    registry = plugins.get_registry()
    found = infos()
    assert found["one"].status == "loaded" and found["one"].prefixes == ("shared", "one")
    assert registry.get("detector", "shared.a").plugin == "one"
    assert found["two"].status == "failed" and ("detector", "shared.b") not in registry
    assert "id prefix 'shared' belongs to plugin 'one'" in found["two"].error
    # a prefix named after another installed plugin is that plugin's, whatever the load order
    assert found["squat"].status == "failed" and "belongs to plugin 'zeta'" in found["squat"].error
    assert found["corer"].status == "failed" and "belongs to plugin 'omniad'" in found["corer"].error
    assert found["zeta"].status == "loaded"


@pytest.mark.parametrize(
    ("name", "declaration", "message"),
    [
        ("acme1", 'OMNIAD_PREFIXES = "acme1"', "must be a non-empty tuple of prefixes such as ('acme1',)"),
        ("acme2", "OMNIAD_PREFIXES = ()", "must be a non-empty tuple of prefixes"),
        ("acme3", 'OMNIAD_PREFIXES = ("Acme.x",)', "'Acme.x' is not a valid id prefix"),
    ],
)
def test_bad_prefix_declarations_fail_clearly(make_plugin, name: str, declaration: str, message: str) -> None:
    """Each case gets its own module name: Python caches imported modules by name."""
    make_plugin(name, hooks(header=declaration, detectors=detector(f"{name}.knn")))
    info = infos()[name]
    assert info.status == "failed" and message in info.error


def write_entry_point(root: Path, name: str, module: str, source: str) -> None:
    """A distribution whose entry-point name is not a module name (the fixture ties them)."""
    (root / f"{module}.py").write_text(source)
    dist = root / f"{module}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[omniad]\n{name} = {module}\n")
    plugins.reset()


def test_a_plugin_name_that_is_no_prefix_must_declare_one(make_plugin, tmp_path: Path) -> None:
    make_plugin("anchor1", hooks())  # puts tmp_path on sys.path and isolates the manager
    write_entry_point(tmp_path, "my-plugin", "fake_omniad_dashed", hooks(detectors=detector("my_plugin.knn")))
    info = infos()["my-plugin"]
    assert info.status == "failed"
    assert "plugin name 'my-plugin' is not a valid id prefix" in info.error
    assert "declare OMNIAD_PREFIXES = ('my_plugin',) in fake_omniad_dashed" in info.error
    header = 'OMNIAD_PREFIXES = ("my_plugin",)'
    write_entry_point(tmp_path, "my-plugin2", "fake_omniad_dashed2", hooks(header=header, detectors=detector("my_plugin.knn")))
    registry = plugins.get_registry()
    assert registry.get("detector", "my_plugin.knn").plugin == "my-plugin2"


def test_the_same_id_twice_in_one_plugin_is_named(make_plugin) -> None:
    make_plugin("twice", hooks(detectors=detector("twice.a") + "; " + detector("twice.a")))
    info = infos()["twice"]
    assert info.status == "failed" and "detector id 'twice.a' is registered twice" in info.error


def test_hooks_may_take_no_arguments(make_plugin) -> None:
    """pluggy lets an implementation ask for fewer arguments than the spec offers."""
    source = hooks(detectors=detector("lean.knn")) + "@hookimpl\ndef omniad_register_metrics():\n    pass\n"
    make_plugin("lean", source)
    assert infos()["lean"].status == "loaded"


def test_commit_refuses_a_plugin_whose_ids_are_taken(make_plugin) -> None:
    """Prefix ownership keeps ids apart; the commit still never lands half a plugin."""
    make_plugin("anchor2", hooks())
    manager = plugins.get_plugin_manager()
    card = DetectorCard(id="core.knn", target="a:b", modality="tabular", summary="x")
    registry, staging = Registry(), Registry()
    registry.add(card, plugin="omniad")
    staging.add(card, plugin="anchor2")
    staging.add(card.model_copy(update={"id": "core.fresh"}), plugin="anchor2")
    info = manager.plugins["anchor2"]
    assert manager._commit(registry, staging, info) is False
    assert ("detector", "core.fresh") not in registry
    assert info.status == "failed" and "detector 'core.knn' (plugin 'omniad')" in info.error


def test_strict_mode_raises_on_a_failing_hook(make_plugin, monkeypatch) -> None:
    make_plugin("half", HALF_BROKEN)
    monkeypatch.setenv("OMNIAD_STRICT_PLUGINS", "1")
    with pytest.raises(PluginLoadError, match="half.*omniad_register_datasets.*bug in my dataset hook"):
        plugins.PluginManager().build_registry()


def test_list_warns_on_stderr_and_keeps_json_clean(make_plugin, capsys) -> None:
    make_plugin("half", HALF_BROKEN)
    make_plugin("badimport", "raise RuntimeError('CUDA driver mismatch')\n")
    assert main(["list", "--json"]) == 0
    out, err = capsys.readouterr()
    assert "half.knn" not in {row["id"] for row in json.loads(out)}
    lines = err.strip().splitlines()
    assert len(lines) == 2, err
    for line, name in zip(lines, ["badimport", "half"]):
        assert line.startswith(f"warning: plugin '{name}' failed") and "`omniad plugins`" in line
    assert "CUDA driver mismatch" in lines[0] and "omniad_register_datasets" in lines[1]


def test_list_is_quiet_when_every_plugin_loads(make_plugin, capsys) -> None:
    make_plugin("quiet", hooks(detectors=detector("quiet.knn")))
    assert main(["list"]) == 0
    out, err = capsys.readouterr()
    assert "quiet.knn" in out and "warning" not in err


def test_plugins_strict_fails_on_a_failing_hook(make_plugin, capsys) -> None:
    make_plugin("half", HALF_BROKEN)
    assert main(["plugins", "--json"]) == 0
    rows = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert rows["half"]["status"] == "failed" and rows["half"]["components"] == {}
    assert rows["half"]["prefixes"] == ["half"]
    assert main(["plugins", "--strict"]) == 1
