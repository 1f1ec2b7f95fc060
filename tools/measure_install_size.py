"""Install sizes of the README's environments: each one in a fresh venv, measured on disk.

    python tools/measure_install_size.py            # the budgeted environments and the [neural] ones
    python tools/measure_install_size.py --budget-only

Each environment is created with uv in a temporary folder outside the repository and
installed from the package folders exactly as the README says (`uv pip install
./packages/omniad ./packages/omniad-timeseries`, not editable); its size is the sum of the
file sizes under site-packages. Prints a Markdown table (pasted into the README) and exits
non-zero when an environment with a budget exceeds it, when one that must be torch-free holds
torch, or when the core was installed editable.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MB = 1_000_000


@dataclass(frozen=True)
class Env:
    name: str
    requirements: tuple[str, ...]  # relative to the repository root, extras allowed
    budget_mb: float | None = None  # None: measured, not budgeted
    torch_free: bool = False


ENVS = (
    Env("core", ("packages/omniad",), 400, torch_free=True),
    Env("core + timeseries", ("packages/omniad", "packages/omniad-timeseries"), 400, torch_free=True),
    Env("core + logs", ("packages/omniad", "packages/omniad-logs"), 400, torch_free=True),
    Env("core + timeseries[numba]", ("packages/omniad", "packages/omniad-timeseries[numba]")),
    Env("core + timeseries[neural]", ("packages/omniad", "packages/omniad-timeseries[neural]")),
    Env("core + logs[neural]", ("packages/omniad", "packages/omniad-logs[neural]")),
)


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"measure_install_size: `{' '.join(cmd)}` failed in {cwd}:\n{proc.stderr[-2000:]}")


def _site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages")) or sorted(venv.glob("Lib/site-packages"))
    if not found:
        sys.exit(f"measure_install_size: no site-packages under {venv}")
    return found[0]


def _sizes(site: Path) -> tuple[int, Counter[str]]:
    """Total bytes under ``site`` and bytes per top-level entry (a package, a .libs folder, ...)."""
    per: Counter[str] = Counter()
    for dirpath, _, files in os.walk(site):
        top = Path(dirpath).relative_to(site).parts
        for name in files:
            path = Path(dirpath) / name
            if not path.is_symlink():
                per[top[0] if top else name] += path.stat().st_size
    return sum(per.values()), per


def _core_editable(site: Path) -> bool:
    for info in site.glob("omniad-*.dist-info"):
        direct = info / "direct_url.json"
        if direct.is_file() and json.loads(direct.read_text()).get("dir_info", {}).get("editable"):
            return True
    return False


def measure(env: Env, python: str, work: Path) -> tuple[dict[str, object], list[str]]:
    venv = work / env.name.replace(" ", "").replace("+", "_").replace("[", "_").replace("]", "")
    _run(["uv", "venv", "-q", "-p", python, str(venv)], cwd=work)
    started = time.perf_counter()
    _run(["uv", "pip", "install", "-q", "--python", str(venv / "bin" / "python"),
          *[str(ROOT / r) for r in env.requirements]], cwd=work)  # from outside the repository
    seconds = time.perf_counter() - started
    site = _site_packages(venv)
    total, per = _sizes(site)
    has_torch = (site / "torch").is_dir()
    problems = []
    if env.budget_mb is not None and total > env.budget_mb * MB:
        problems.append(f"{env.name}: {total / MB:.0f} MB is over its budget of {env.budget_mb:.0f} MB")
    if env.torch_free and has_torch:
        problems.append(f"{env.name}: torch was installed although no requirement asks for it")
    if _core_editable(site):
        problems.append(f"{env.name}: the core was installed editable (a uv source leaked into the install)")
    largest = ", ".join(f"{name} {size / MB:.0f}" for name, size in per.most_common(4))
    row = {"environment": env.name, "command": "pip install " + " ".join(f"'./{r}'" if "[" in r else f"./{r}" for r in env.requirements),
           "mb": total / MB, "budget": env.budget_mb, "torch": has_torch, "largest": largest, "seconds": seconds}
    return row, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-only", action="store_true", help="only the environments with a budget")
    parser.add_argument("--python", default="3.11")
    args = parser.parse_args(argv)
    envs = [e for e in ENVS if e.budget_mb is not None or not args.budget_only]
    rows, problems = [], []
    with tempfile.TemporaryDirectory(prefix="omniad-size-") as tmp:
        for env in envs:
            row, bad = measure(env, args.python, Path(tmp))
            rows.append(row)
            problems.extend(bad)
    uv = subprocess.run(["uv", "--version"], capture_output=True, text=True).stdout.split()[1:2] or ["?"]
    print(f"Measured {time.strftime('%Y-%m-%d', time.gmtime())} on {platform.system()} {platform.machine()} "
          f"({os.cpu_count()} cores), Python {args.python}, uv {uv[0]}, fresh venvs; "
          "MB = 10^6 bytes under site-packages.\n")
    print("| environment | command | size | budget | torch | largest (MB) |")
    print("|---|---|---:|---:|---|---|")
    for r in rows:
        budget = f"{r['budget']:.0f} MB" if r["budget"] is not None else "—"
        print(f"| {r['environment']} | `{r['command']}` | {r['mb']:.0f} MB | {budget} | "
              f"{'yes' if r['torch'] else 'no'} | {r['largest']} |")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
