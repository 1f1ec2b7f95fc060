"""Runner overhead per executor, and how a CPU-bound grid scales on local Ray workers.

Overhead: after a warm-up run (imports, plugin discovery), ``--trivial`` jobs (core.random on 30 vectors: the job itself is ~1 ms) run under
the inline, process (2 workers) and ray (local, 2 CPUs) executors through the real runner
(plan, claims, store, report); jobs/s and the time each job costs beyond its own work.

Scaling: core.knn grids of 2, 4, 8 and 16 CPU-bound jobs (each ~0.5 s, one thread; after a warm-up run) on a
local Ray instance with 1 and with 2 CPUs; the speed-up is wall(1 CPU) / wall(2 CPUs).
Ray start-up is timed apart (it is paid once per run, not per job).

    python tools/bench_scale.py                       # prints the tables
    python tools/bench_scale.py --out docs/benchmarks.md

``--out FILE`` replaces the block between ``<!-- bench_scale:start -->`` and
``<!-- bench_scale:end -->`` in FILE.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one job = one core, so the scaling is the executor's
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

START, END = "<!-- bench_scale:start -->", "<!-- bench_scale:end -->"
TRIVIAL = {"id": "core.blobs", "params": {"n_train": 20, "n_test_normal": 8, "n_test_anomalous": 2, "n_features": 2}}
HEAVY = {"id": "core.blobs", "params": {"n_train": 12000, "n_test_normal": 2500, "n_test_anomalous": 100,
                                        "n_features": 32}}


def grid(out: Path, executor: str, n: int, *, heavy: bool, workers: int = 1) -> Any:
    from omniad.runner.config import parse_config

    detector = {"id": "core.knn", "params": {"n_neighbors": 5}} if heavy else {"id": "core.random"}
    return parse_config({
        "output_dir": str(out), "executor": executor, "workers": workers, "examples": 0,
        "seeds": list(range(n)), "metrics": ["core.auroc"],
        "detectors": [detector], "datasets": [HEAVY if heavy else TRIVIAL],
    })


def timed_run(config: Any) -> tuple[float, list[dict[str, Any]]]:
    from omniad.runner.run import run

    t0 = time.perf_counter()
    result = run(config, progress=False, log=lambda _msg: None)
    wall = time.perf_counter() - t0
    bad = [r for r in result.records if r["status"] != "ok"]
    if bad or result.ran != len(result.jobs):
        raise SystemExit(f"benchmark grid did not run cleanly: {bad[:1]}")
    return wall, result.records


def ray_start(cpus: int) -> float:
    import ray

    if ray.is_initialized():
        ray.shutdown()
    t0 = time.perf_counter()
    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    # the first task pays for starting worker processes; time it with the start-up
    ray.get([ray.remote(lambda: None).remote() for _ in range(cpus)])
    return time.perf_counter() - t0


def warm_up(tmp: Path, executor: str, slots: int) -> None:
    """One-time costs (plugin discovery, imports in each worker, report writers) off the clock."""
    timed_run(grid(tmp / f"warm-{executor}-{time.monotonic_ns()}", executor, 2 * slots, heavy=False, workers=slots))


def overhead(tmp: Path, n: int) -> tuple[list[str], float]:
    rows = []
    startup = 0.0
    for executor, slots in (("inline", 1), ("process", 2), ("ray", 2)):
        if executor == "ray":
            startup = ray_start(2)
        if executor != "process":  # a process pool is new on every run: its start-up is its overhead
            warm_up(tmp, executor, slots)
        wall, records = timed_run(grid(tmp / f"overhead-{executor}", executor, n, heavy=False, workers=slots))
        in_job = sum(r["total_s"] for r in records) / len(records)
        per_job = wall / n
        cost = wall * slots / n - in_job  # what each job costs a slot beyond its own work
        rows.append(f"| {executor} | {slots} | {n} | {wall:.2f} | {n / wall:.0f} | {per_job * 1e3:.1f} | "
                    f"{in_job * 1e3:.1f} | {cost * 1e3:.1f} |")
    return rows, startup


def scaling(tmp: Path, sizes: list[int]) -> tuple[list[str], dict[int, float]]:
    walls: dict[tuple[int, int], float] = {}
    job_s: dict[int, float] = {}
    startups = {}
    for cpus in (1, 2):
        startups[cpus] = ray_start(cpus)
        warm_up(tmp, "ray", cpus)
        for n in sizes:
            wall, records = timed_run(grid(tmp / f"scale-{cpus}-{n}", "ray", n, heavy=True))
            walls[(cpus, n)] = wall
            job_s[n] = sum(r["total_s"] for r in records) / len(records)
    rows = []
    for n in sizes:
        one, two = walls[(1, n)], walls[(2, n)]
        rows.append(f"| {n} | {job_s[n]:.2f} | {one:.2f} | {two:.2f} | {one / two:.2f}x | "
                    f"{n * job_s[n] / two / 2:.0%} |")
    return rows, startups


def render(args: argparse.Namespace) -> str:
    with tempfile.TemporaryDirectory(prefix="omniad-bench-scale-") as tmp_name:
        tmp = Path(tmp_name)
        over, startup = overhead(tmp, args.trivial)
        scale, startups = scaling(tmp, args.sizes)
    import ray

    ray.shutdown()
    lines = [
        f"Measured {date.today().isoformat()} on {os.cpu_count()} CPUs ({platform.machine()}), "
        f"Ray {ray.__version__}, `python tools/bench_scale.py --out docs/benchmarks.md`.",
        "",
        f"**Overhead**, {args.trivial} trivial jobs through the whole runner (plan, claims, store, report):",
        "",
        "| executor | slots | jobs | wall s | jobs/s | wall ms/job | in-job ms | overhead ms/job/slot |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *over,
        "",
        f"Ray start-up (local instance, first task on each worker) is not in the wall time: {startup:.1f} s.",
        "",
        "**Scaling**, CPU-bound core.knn jobs (one thread each) on a local Ray instance with 1 and 2 CPUs:",
        "",
        "| jobs | s/job | wall, 1 worker | wall, 2 workers | speed-up | efficiency (2 workers) |",
        "|---:|---:|---:|---:|---:|---:|",
        *scale,
        "",
        f"Ray start-up: {startups[1]:.1f} s (1 CPU), {startups[2]:.1f} s (2 CPUs), not in the wall times.",
    ]
    return "\n".join(lines)


def write_block(path: Path, block: str) -> None:
    text = path.read_text() if path.exists() else ""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + START + "\n" + block + "\n" + END + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + START + "\n" + block + "\n" + END + "\n"
    path.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trivial", type=int, default=200, help="jobs in the overhead grid")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[2, 4, 8, 16])
    parser.add_argument("--out", type=Path, help="Markdown file whose bench_scale block is replaced")
    args = parser.parse_args()
    try:
        import ray  # noqa: F401
    except ImportError:
        print("bench_scale needs Ray: pip install 'omniad[ray]'", file=sys.stderr)
        return 2
    block = render(args)
    print(block)
    if args.out:
        write_block(args.out, block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
