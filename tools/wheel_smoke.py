"""Smoke checks of an environment installed from the built wheels (`nox -s wheels`).

    python tools/wheel_smoke.py --repo REPOSITORY_ROOT --demo DEMO_OUTPUT_DIR [--demo ...] \
        [--fit DETECTOR@DATASET ...]

Per installed omniad distribution (the core and every plugin):

- it was installed from a wheel file, not from a folder and not editable, and its modules are
  imported from the environment, not from the repository;
- every file of its source package in the repository (modules and package data: templates,
  JSON, ...) is in the installed files, so a file the wheel forgot fails here;
- its plugin loaded, and one of its components was fitted and scored: in a job `omniad demo`
  finished (the output folders given), or by `--fit`, which fits a detector on the first
  subset of a dataset, both with their demo parameters (for packages whose whole demo is slow).

Prints one line per distribution; exits 1 naming every problem.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import sysconfig
import time
from importlib import metadata
from pathlib import Path


def _omniad_distributions() -> list[metadata.Distribution]:
    out = []
    for dist in metadata.distributions():
        name = dist.metadata["Name"].lower().replace("_", "-")
        if name == "omniad" or any(ep.group == "omniad" for ep in dist.entry_points):
            out.append(dist)
    return sorted(out, key=lambda d: d.metadata["Name"])


def _source_dir(repo: Path, name: str, module: str) -> Path | None:
    for parent in ("packages", "plugins"):
        src = repo / parent / name / "src" / module
        if src.is_dir():
            return src
    return None


def _fit(spec: str) -> str:
    """Fit and score ``DETECTOR@DATASET`` with their demo parameters; one line saying how long it took."""
    import omniad

    detector, _, dataset = spec.partition("@")
    registry = omniad.get_registry()
    det_card, data_card = registry.get("detector", detector).card, registry.get("dataset", dataset).card
    started = time.perf_counter()
    subset = omniad.create_dataset(dataset, dict(data_card.demo_params)).load()[0]
    scores = omniad.create_detector(detector, dict(det_card.demo_params)).fit(subset.train.samples).score(
        subset.test.samples)
    if len(scores.sample) != len(subset.test.samples):
        raise AssertionError(f"{spec}: {len(scores.sample)} scores for {len(subset.test.samples)} samples")
    return f"fit and scored {detector} on {dataset} ({subset.name}) in {time.perf_counter() - started:.1f} s"


def check(demos: list[Path], fits: list[str], repo: Path) -> list[str]:
    from omniad.plugins import get_plugin_manager, get_registry

    get_registry()
    plugins = get_plugin_manager().plugins.values()
    finished: set[str] = set()
    for demo in demos:
        jobs = [json.loads(record.read_text()) for record in (demo / "jobs").glob("*.json")]
        if not any(job.get("status") == "ok" for job in jobs):
            return [f"no finished demo job under {demo / 'jobs'}"]
        for job in jobs:
            if job.get("status") == "ok":
                finished.update({job["detector"]["id"].split(".")[0], job["dataset"]["id"].split(".")[0]})
    for spec in fits:
        print(_fit(spec))
        finished.update(part.split(".")[0] for part in spec.split("@"))

    problems: list[str] = []
    for dist in _omniad_distributions():
        name = dist.metadata["Name"]
        where = f"{name} {dist.version}"
        direct = dist.read_text("direct_url.json")
        url = json.loads(direct).get("url", "") if direct else ""
        if not url.endswith(".whl"):
            problems.append(f"{where}: installed from {url or 'an index'}, not from a built wheel")
        files = [str(f) for f in dist.files or ()]
        tops = {f.split("/")[0] for f in files if "/" in f}  # "../../bin/omniad" is a console script
        modules = sorted(t for t in tops if t != ".." and not t.endswith(".dist-info"))
        if not modules:
            problems.append(f"{where}: the wheel holds no package")
            continue
        module = modules[0]
        located = Path(importlib.import_module(module).__file__ or "").resolve()
        if Path(sysconfig.get_paths()["purelib"]).resolve() not in located.parents:
            problems.append(f"{where}: {module} is imported from {located}, not from this environment's "
                            "site-packages")
        src = _source_dir(repo, name, module)
        if src is None:
            problems.append(f"{where}: no source folder packages/{name}/src/{module} or plugins/... in {repo}")
        else:
            installed = set(files)
            missing = [str(p.relative_to(src.parent)) for p in sorted(src.rglob("*"))
                       if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
                       and str(p.relative_to(src.parent)) not in installed]
            if missing:
                problems.append(f"{where}: the wheel lacks {len(missing)} file(s) of {src}: {', '.join(missing[:5])}")
        mine = [p for p in plugins if (p.distribution and p.distribution.lower().replace("_", "-") == name.lower())
                or (name == "omniad" and p.status == "builtin")]
        prefixes = {prefix for p in mine for prefix in p.prefixes}
        failed = [p.name for p in mine if p.status == "failed"]
        if failed or not mine:
            problems.append(f"{where}: plugin {'not found' if not mine else ', '.join(failed) + ' failed to load'}")
        elif not prefixes & finished:
            problems.append(f"{where}: none of its components (prefixes {sorted(prefixes)}) was fitted and scored")
        print(f"{where}: wheel {Path(url).name}, {len(files)} files, prefixes {sorted(prefixes)}, "
              f"fit and score {'ok' if prefixes & finished else 'MISSING'}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, action="append", default=[], help="an output folder of `omniad demo`")
    parser.add_argument("--fit", action="append", default=[], metavar="DETECTOR@DATASET",
                        help="fit and score a detector on a dataset's first subset (demo parameters)")
    parser.add_argument("--repo", type=Path, required=True, help="the repository the wheels were built from")
    args = parser.parse_args(argv)
    problems = check(args.demo, args.fit, args.repo)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
