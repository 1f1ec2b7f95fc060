"""Run code as if some modules were not installed, to test a plugin's path without an optional extra.

Installing a second environment without torch just to prove the classic detectors never need
it costs minutes; blocking the import in a fresh interpreter costs a second::

    from omniad.testing.blocked import run_without

    proc = run_without("import omniad; ...", blocked=("torch",))
    assert proc.returncode == 0, proc.stderr

Inside, ``import torch`` raises ``ModuleNotFoundError`` and ``importlib.util.find_spec("torch")``
returns None, as when torch is not installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping, Sequence

_BLOCKER = '''\
import importlib.util
import sys

_NAMES = frozenset({names!r})
_find_spec = importlib.util.find_spec


class _Blocked:
    """Meta-path finder: importing a blocked top-level module fails as if it were not installed."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in _NAMES:
            raise ModuleNotFoundError(f"No module named {{fullname!r}} (blocked by omniad.testing.blocked)",
                                      name=fullname)
        return None


def find_spec(name, package=None):
    """``importlib.util.find_spec`` answering None for blocked modules, as for uninstalled ones."""
    if name.split(".")[0] in _NAMES:
        return None
    return _find_spec(name, package)


sys.meta_path.insert(0, _Blocked())
importlib.util.find_spec = find_spec
'''


def run_without(code: str, blocked: Sequence[str] = ("torch",), *, env: Mapping[str, str] | None = None,
                timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter where the top-level modules ``blocked`` cannot be imported."""
    program = _BLOCKER.format(names=tuple(blocked)) + "\n" + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


_CHECK = '''
import contextlib, io, json, sys, tempfile
from pathlib import Path

import omniad
from omniad.cli import main
from omniad.errors import MissingDependencyError
from omniad.registry import _pip_argument

expected = {needs!r}
registry = omniad.get_registry()
needs = {{e.id: e.missing_installs() for e in registry.list("detector", modality={modality!r})}}
assert {{i: n for i, n in needs.items() if n}} == expected, f"marked as needing an extra: {{needs}}"

subset = omniad.create_dataset({dataset!r}, {dataset_params!r}).load()[0]
for det in {classic!r}:  # an import of a blocked module fails the fit
    scores = omniad.create_detector(det).fit(subset.train.samples).score(subset.test.samples)
    assert len(scores.sample) == len(subset.test.samples), det

out = io.StringIO()
with contextlib.redirect_stdout(out):
    assert main(["list", "detectors", "--modality", {modality!r}, "--json"]) == 0
assert {{c["id"]: c["needs"] for c in json.loads(out.getvalue())}} == needs, "omniad list --json"
out = io.StringIO()
with contextlib.redirect_stdout(out):
    assert main(["list", "detectors", "--modality", {modality!r}]) == 0
rows = {{line.split()[1]: line for line in out.getvalue().splitlines() if line.startswith("│ ")}}
for i, pips in needs.items():
    marks = [f"[needs {{p}}]" for p in pips]
    assert all(m in rows[i] for m in marks) and ("[needs" in rows[i]) == bool(pips), rows[i]

grid = Path(tempfile.mkdtemp()) / "grid.toml"
lines = ["seeds = [0]", "[[datasets]]", 'id = "{dataset}"']
for i in [*expected, {classic!r}[0]]:
    lines += ["[[detectors]]", f'id = "{{i}}"']
grid.write_text("\\n".join(lines) + "\\n")
err = io.StringIO()
with contextlib.redirect_stderr(err):
    assert main(["validate", str(grid)]) == 2, "a grid naming a component without its extra validated"
plan = err.getvalue().splitlines()
for i, pips in expected.items():
    want = "pip install " + " ".join(_pip_argument(p) for p in pips)
    try:
        omniad.create_detector(i)
        raise AssertionError(f"{{i}} was created without its extra")
    except MissingDependencyError as exc:
        assert "\\n" not in str(exc) and str(exc).endswith(want), str(exc)
    named = [line for line in plan if repr(i) in line]
    assert len(named) == 1 and named[0].endswith(want), plan
assert not any(repr({classic!r}[0]) in line for line in plan), plan
'''


def check_without_extras(modality: str, blocked: Sequence[str], needs: Mapping[str, list[str]],
                         classic: Sequence[str], dataset: str, dataset_params: Mapping[str, object] | None = None,
                         code: str = "") -> subprocess.CompletedProcess[str]:
    """A plugin's path without its optional extras, in a fresh interpreter without the ``blocked`` modules.

    Checks that exactly the detectors in ``needs`` (id -> what to pip install) are marked as needing
    an extra by ``omniad list`` (table and ``--json``); that the ``classic`` detectors fit and score
    ``dataset``; and that each detector in ``needs`` fails to be created, and a grid naming it fails at
    plan time, with one line ending in its pip command. ``code`` runs after, for the plugin's own checks.
    """
    program = _CHECK.format(modality=modality, needs=dict(needs), classic=list(classic), dataset=dataset,
                            dataset_params=dict(dataset_params or {}))
    proc = run_without(program + textwrap.dedent(code), blocked)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc
