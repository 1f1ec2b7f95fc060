"""Every package installed together: all plugins load strictly, discovery stays light."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

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


# -- the template's README rename steps, performed on a copy -------------------------------
TEMPLATE = Path(__file__).resolve().parents[1] / "plugins" / "omniad-plugin-template"


def rename_template(dest: Path, dist: str = "omniad-acme", package: str = "omniad_acme", prefix: str = "acme") -> Path:
    """The numbered steps of the template README's "Make it yours", scripted."""
    copy = dest / dist
    shutil.copytree(TEMPLATE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    # 1. package folder
    (copy / "src" / "omniad_plugin_template").rename(copy / "src" / package)
    # 2. import name, in every text file
    for path in copy.rglob("*"):
        if path.is_file():
            text = path.read_text()
            if "omniad_plugin_template" in text:
                path.write_text(text.replace("omniad_plugin_template", package))
    pyproject = copy / "pyproject.toml"
    # 3. distribution name; 4. plugin (entry-point) name
    for old, new in [
        ('name = "omniad-plugin-template"', f'name = "{dist}"'),
        (f'template = "{package}.plugin"', f'{prefix} = "{package}.plugin"'),
    ]:
        text = pyproject.read_text()
        assert old in text, f"README step no longer matches pyproject.toml: {old!r}"
        pyproject.write_text(text.replace(old, new))
    # 5. id prefix
    plugin = copy / "src" / package / "plugin.py"
    old = 'OMNIAD_PREFIXES = ("template",)'
    assert old in plugin.read_text(), f"README step no longer matches plugin.py: {old!r}"
    plugin.write_text(plugin.read_text().replace(old, f'OMNIAD_PREFIXES = ("{prefix}",)'))
    # 6. test file names
    for test in (copy / "tests").glob("test_template_*.py"):
        test.rename(test.with_name(test.name.replace("test_template_", f"test_{prefix}_")))
    return copy


def install_by_metadata(project: Path, site: Path) -> None:
    """What ``pip install -e`` leaves behind, written from the project's own pyproject.toml.

    A hand-written ``.dist-info`` beside ``src`` on ``PYTHONPATH`` needs no build backend
    and no network, and still fails when a renamed path or entry point is wrong.
    """
    tomllib = pytest.importorskip("tomllib")
    meta = tomllib.loads((project / "pyproject.toml").read_text())
    version_file = project / meta["tool"]["hatch"]["version"]["path"]
    for package in meta["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]:
        assert (project / package / "__init__.py").is_file(), f"wheel package {package} does not exist"
    version = re.search(r'__version__ = "([^"]+)"', version_file.read_text()).group(1)
    name = meta["project"]["name"]
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = [f"{k} = {v}" for k, v in meta["project"]["entry-points"]["omniad"].items()]
    (info / "entry_points.txt").write_text("[omniad]\n" + "\n".join(lines) + "\n")


def test_template_renamed_by_its_readme_passes_its_tests(tmp_path: Path) -> None:
    copy = rename_template(tmp_path)
    leftovers = sorted(
        f"{path.relative_to(copy)}: {match.group(0)!r}"
        for path in copy.rglob("*") if path.suffix in (".py", ".toml")
        for match in re.finditer(r"omniad[-_]plugin[-_]template|\"template\"|'template'|template\.[a-z_]+\b", path.read_text())
    )
    assert not leftovers, f"the README's rename steps miss these: {leftovers}"
    install_by_metadata(copy, tmp_path / "site")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(copy / "src")]),
        "OMNIAD_LOAD_PLUGINS": "acme,template",  # the original next to its copy, nothing else
        "OMNIAD_STRICT_PLUGINS": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider", "--import-mode=importlib"],
        cwd=copy, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    original = subprocess.run(
        [sys.executable, "-m", "pytest", str(TEMPLATE / "tests"), "-q", "--collect-only", "-p", "no:cacheprovider"],
        capture_output=True, text=True, timeout=300,
    )
    count = re.search(r"(\d+) tests? collected", original.stdout)
    assert count and f"{count.group(1)} passed" in proc.stdout, (original.stdout[-500:], proc.stdout[-500:])
    listed = subprocess.run([sys.executable, "-m", "omniad", "list", "--json"], env=env, capture_output=True,
                            text=True, timeout=300)
    ids = {(row["plugin"], row["id"]) for row in json.loads(listed.stdout)}
    assert {("acme", "acme.robust_zscore"), ("template", "template.robust_zscore")} <= ids
