"""The static catalog against the installed PyOD, and the registrations built from it.

The catalog exists so that discovery never imports PyOD; these tests are what keeps it
honest when PyOD changes.
"""

from __future__ import annotations

import inspect
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import omniad
from omniad.registry import import_target
from omniad_pyod.catalog import CATALOG, NOT_EXPOSED, NOT_EXPOSED_PREFIXES, ModelSpec
from omniad_pyod.params import MODELS

SPECS = list(CATALOG.values())
README = Path(__file__).parents[1] / "README.md"


def pyod_signature(spec: ModelSpec) -> dict[str, inspect.Parameter]:
    cls = import_target(spec.pyod_class, what=spec.id)
    return {n: p for n, p in inspect.signature(cls.__init__).parameters.items() if n != "self"}


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_arguments_match_the_installed_pyod(spec: ModelSpec) -> None:
    pyod_args = pyod_signature(spec)
    ours = [a.name for a in spec.args]
    assert len(set(ours)) == len(ours), "an argument is listed twice"
    assert set(ours) | set(spec.excluded) == set(pyod_args), (
        f"PyOD {spec.class_name} takes {sorted(pyod_args)}; the catalog lists {sorted(ours)} "
        f"and excludes {sorted(spec.excluded)}: update omniad_pyod/catalog.py"
    )
    for arg in spec.args:
        assert arg.default == pyod_args[arg.name].default, (
            f"{spec.class_name}({arg.name}=...) defaults to {pyod_args[arg.name].default!r} in PyOD, "
            f"{arg.default!r} in the catalog"
        )


def test_every_pyod_model_module_is_exposed_or_explained() -> None:
    import pyod.models

    modules = {m.name for m in pkgutil.iter_modules(pyod.models.__path__) if not m.name.startswith("_")}
    exposed = {spec.pyod_class.split(":")[0].rsplit(".", 1)[1] for spec in SPECS}
    explained = exposed | set(NOT_EXPOSED) | {m for m in modules if m.startswith(tuple(NOT_EXPOSED_PREFIXES))}
    assert modules - explained == set(), "new PyOD models: expose them in the catalog or list them in NOT_EXPOSED"
    assert set(NOT_EXPOSED) - modules == set(), "NOT_EXPOSED names modules PyOD no longer has"
    assert exposed & set(NOT_EXPOSED) == set()


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_pyod_defaults_pass_our_validation(spec: ModelSpec) -> None:
    """pydantic does not validate defaults; a default outside its own type would fail only in use."""
    model = MODELS[spec.name]
    validated = model.model_validate({a.name: a.default for a in spec.args})
    assert validated == model()


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_params_survive_a_json_round_trip(spec: ModelSpec) -> None:
    """Saved detectors store their parameters as JSON and rebuild the model from it."""
    model = MODELS[spec.name]
    assert model.model_validate(json.loads(model().model_dump_json())) == model()


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_registered_card_matches_the_catalog(spec: ModelSpec) -> None:
    entry = omniad.get_registry().get("detector", spec.id)
    assert entry.plugin == "pyod"
    assert entry.card.modality == "tabular"
    assert entry.card.fit_on == ("test" if spec.scoring == "transductive" else "train")
    cls = entry.load()
    assert cls.__name__ == spec.class_name and cls.spec is spec
    assert entry.params_model() is cls.Params is MODELS[spec.name]


def test_readme_lists_every_detector_and_every_omission() -> None:
    text = README.read_text()
    missing = [spec.id for spec in SPECS if f"`{spec.id}`" not in text]
    missing += [name for name in NOT_EXPOSED if f"`{name}`" not in text]
    assert not missing, f"README.md does not mention {missing}"
    wrong_demo = [spec.id for spec in SPECS if (f"`{spec.id}` (demo)" in text) != spec.demo]
    assert not wrong_demo, f"README.md's (demo) marks disagree with the catalog for {wrong_demo}"


def test_discovery_imports_neither_pyod_nor_scikit_learn() -> None:
    code = (
        "import sys, omniad\n"
        "r = omniad.get_registry()\n"
        "ids = [e.id for e in r.list('detector') if e.plugin == 'pyod']\n"
        "assert len(ids) > 20, ids\n"
        "[r.get('detector', i).params_model() for i in ids]\n"
        "bad = [m for m in ('pyod', 'sklearn', 'numba', 'scipy', 'torch') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-1000:]
