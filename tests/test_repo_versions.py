"""Independent versions stay honest: every package's pin on the core admits the core's version, and
every package's changelog has an entry for the version it would publish.

Read from the source tree (pyproject.toml, the version file hatch reads, CHANGELOG.md), so a bump
of the core that a sibling's `omniad>=x,<y` no longer admits fails here, before any user's resolver.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(p.parent for pattern in ("packages/*/pyproject.toml", "plugins/*/pyproject.toml")
                  for p in ROOT.glob(pattern))


def _project(folder: Path) -> dict:
    return tomllib.loads((folder / "pyproject.toml").read_text())


def _version(folder: Path) -> Version:
    """The version hatch builds: ``__version__`` in the file ``[tool.hatch.version] path`` names."""
    path = folder / _project(folder)["tool"]["hatch"]["version"]["path"]
    found = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', path.read_text(), flags=re.M)
    assert found, f"{path}: no __version__ = '...' line for hatch to read"
    return Version(found.group(1))


CORE = ROOT / "packages" / "omniad"


def test_every_package_is_found() -> None:
    names = {_project(p)["project"]["name"] for p in PACKAGES}
    assert {"omniad", "omniad-timeseries", "omniad-logs", "omniad-plugin-template"} <= names, names


@pytest.mark.parametrize("folder", [p for p in PACKAGES if p != CORE], ids=lambda p: p.name)
def test_core_pin_admits_the_core_version(folder: Path) -> None:
    core = _version(CORE)
    pins = [Requirement(d) for d in _project(folder)["project"]["dependencies"]]
    pins = [r for r in pins if r.name == "omniad"]
    where = f"{folder.relative_to(ROOT)}/pyproject.toml"
    assert len(pins) == 1, f"{where}: expected one 'omniad>=x,<y' dependency, found {[str(p) for p in pins]}"
    spec = pins[0].specifier
    assert any(s.operator == "<" for s in spec) and any(s.operator == ">=" for s in spec), (
        f"{where}: the core pin {spec} needs a lower and an upper bound ('omniad>=x,<y')"
    )
    assert spec.contains(core, prereleases=True), (
        f"{where}: its pin 'omniad{spec}' does not admit the core's version {core} "
        f"({CORE.relative_to(ROOT)}/src/omniad/version.py); widen the pin or test against the older core"
    )


@pytest.mark.parametrize("folder", PACKAGES, ids=lambda p: p.name)
def test_changelog_has_an_entry_for_the_current_version(folder: Path) -> None:
    version = _version(folder)
    changelog = folder / "CHANGELOG.md"
    assert changelog.is_file(), f"{folder.relative_to(ROOT)} has no CHANGELOG.md"
    headings = re.findall(r"^##\s+v?(\S+)", changelog.read_text(), flags=re.M)
    assert str(version) in headings, (
        f"{changelog.relative_to(ROOT)}: no '## {version}' entry for the package's version {version} "
        f"(headings: {headings[:5]}); add one above the older entries"
    )
