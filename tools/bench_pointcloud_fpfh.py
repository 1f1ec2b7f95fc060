"""FPFH, normals and neighbour search on 20,000 points: omniad against Open3D, time and agreement.

    python tools/bench_pointcloud_fpfh.py --repeats 3           # CPU (NumPy + k-d tree path)
    python tools/bench_pointcloud_fpfh.py --threads 1,2 --runs 3   # 1 and 2 threads, 3 runs each, median ratios
    python tools/bench_pointcloud_fpfh.py --device cuda         # the torch path, when a GPU is present

Same cloud (a torus, 20,000 surface samples), same normals (omniad's, passed to both), same
hybrid neighbourhood (radius, max_nn), same 3 x 11 bins. Each step is timed on its own:
neighbour search (``neighbours``: the pair list normals and FPFH use, scipy's dual-tree
``query_pairs``; ``sorted nn``: ``radius_neighbours``, the ``max_nn`` nearest sorted by distance,
built from that pair list; both against Open3D's ``core.nns`` hybrid search, sorted, whose rows
``radius_neighbours`` must equal: checked and printed), normals
(``estimate_normals`` vs Open3D's, each with its own search), SPFH alone (omniad, neighbours
given), and FPFH end to end (search + SPFH + gather, vs ``compute_fpfh_feature``). Times are
medians of ``--repeats`` runs after one warm-up, the two libraries interleaved so that both see
the same machine load; process CPU time is printed beside wall time (steadier on a busy shared
CPU). Both use the same CPU threads: omniad's follow torch's thread count, Open3D's OpenMP follows
OMP_NUM_THREADS (printed) and its TBB pool the CPUs the process may run on. ``--threads 1,2``
runs one child process per count with OMP_NUM_THREADS and the CPU affinity set to that many
cores (so Open3D's TBB search gets no more threads than omniad), ``--runs`` times each, and
prints the median omniad/Open3D ratio of every step.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
import torch

from omniad_pointcloud import reference
from omniad_pointcloud.features import fpfh_cpu
from omniad_pointcloud.features.fpfh import fpfh
from omniad_pointcloud.features.neighbours import radius_neighbours
from omniad_pointcloud.features.normals import estimate_normals
from omniad_pointcloud.features.pairs import hybrid_pairs
from omniad_pointcloud.shapes import sample_shape

STEPS = ("neighbours", "sorted nn", "normals", "spfh", "fpfh")


def timed(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, tuple[float, object, float]]:
    """Median wall time, the result and median process CPU time of each function, the functions
    interleaved within every repeat."""
    out = {name: fn() for name, fn in fns.items()}  # warm-up
    times: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            c, t = time.process_time(), time.perf_counter()
            out[name] = fn()
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            times[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    return {name: (statistics.median(times[name]), out[name], statistics.median(cpu[name])) for name in fns}


def same_rows(ours: tuple[torch.Tensor, ...], theirs: object) -> str:
    """Whether ``radius_neighbours`` gave Open3D's rows: indices, counts, distances."""
    sq, idx, valid = (x.cpu().numpy() for x in ours)
    o_idx, o_sq, o_count = (np.asarray(x.cpu().numpy()) for x in theirs)
    same_idx = np.array_equal(np.where(valid, idx, -1), o_idx[:, : idx.shape[1]])
    same_count = np.array_equal(valid.sum(1), o_count)
    diff = float(np.abs(np.where(valid, sq, 0.0) - o_sq[:, : sq.shape[1]]).max())
    return f"indices identical {same_idx}, counts identical {same_count}, max |sq diff| {diff:.1e}"


def run_children(args: argparse.Namespace) -> None:
    """One child process per thread count and run; the median ratio of each step over the runs."""
    counts = [int(t) for t in args.threads.split(",")]
    cores = sorted(os.sched_getaffinity(0))
    rows: dict[tuple[int, str], list[tuple[float, float, float, float]]] = {}
    for run in range(args.runs):
        for threads in counts:
            env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONHASHSEED": "0"}
            cmd = [
                sys.executable,
                __file__,
                "--child",
                "--threads",
                str(threads),
                "--repeats",
                str(args.repeats),
            ]
            cmd += ["--points", str(args.points), "--radius", str(args.radius), "--max-nn", str(args.max_nn)]
            print(f"run {run + 1}/{args.runs}, {threads} thread(s) on cores {cores[:threads]}", flush=True)
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            print(done.stdout, end="", flush=True)
            result = json.loads(done.stdout.strip().splitlines()[-1].removeprefix("JSON "))
            for step, v in result.items():
                rows.setdefault((threads, step), []).append(tuple(v))
    print(f"\nsummary: medians over {args.runs} run(s) of the per-run medians ({args.repeats} repeats)")
    print(f"{'step':<11} {'threads':>7} {'omniad s':>9} {'Open3D s':>9} {'wall ratio':>11} {'CPU ratio':>10}")
    for step in STEPS:
        for threads in counts:
            v = rows.get((threads, step))
            if not v or any(x[1] is None for x in v):
                continue
            med = [statistics.median(x[c] for x in v) for c in range(4)]
            wall = statistics.median(x[0] / x[1] for x in v)
            cpu = statistics.median(x[2] / x[3] for x in v)
            print(f"{step:<11} {threads:>7} {med[0]:9.3f} {med[1]:9.3f} {wall:11.2f} {cpu:10.2f}")


def open3d_neighbours(pts: np.ndarray, radius: float, max_nn: int) -> object:
    import open3d.core as o3c

    nns = o3c.nns.NearestNeighborSearch(o3c.Tensor(pts))
    nns.hybrid_index(radius)
    return nns.hybrid_search(o3c.Tensor(pts), radius, max_nn)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=20_000)
    ap.add_argument("--radius", type=float, default=0.1)
    ap.add_argument("--max-nn", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", default=None, help="comma-separated thread counts, one child process each")
    ap.add_argument("--runs", type=int, default=1, help="with --threads: child runs per thread count")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.threads and not args.child:
        run_children(args)
        return
    if args.child:  # the process (and Open3D's TBB pool) on as many cores as threads
        threads = int(args.threads)
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:threads])
        torch.set_num_threads(threads)
    r, k, reps = args.radius, args.max_nn, args.repeats
    pts = sample_shape("torus", args.points, np.random.default_rng(0))[0].astype(np.float64)
    t = torch.from_numpy(pts).to(args.device)
    normals = estimate_normals(t, r / 2, 30)
    n = normals.cpu().double().numpy()
    have_o3d = reference.open3d() is not None
    print(
        f"points {args.points}, radius {r}, max_nn {k}, device {args.device}, torch threads "
        f"{torch.get_num_threads()}, OMP_NUM_THREADS {os.environ.get('OMP_NUM_THREADS', 'unset')}, "
        f"cores {os.cpu_count()}, Open3D {reference.open3d().__version__ if have_o3d else 'not importable'}"
    )

    ours: dict[str, Callable[[], object]] = {
        "neighbours": (lambda: hybrid_pairs(pts, r, k))
        if args.device == "cpu"
        else (lambda: radius_neighbours(t, r, k)),
        "normals": lambda: estimate_normals(t, r / 2, 30, orient="none"),
        "fpfh": lambda: fpfh(t, normals, r, k),
    }
    if args.device == "cpu":
        ours["sorted nn"] = lambda: radius_neighbours(t, r, k)
        pairs = hybrid_pairs(pts, r, k)
        ours["spfh"] = lambda: fpfh_cpu.spfh(pts, n, pairs)
    theirs: dict[str, Callable[[], object]] = {}
    if have_o3d:
        theirs = {
            "neighbours": lambda: open3d_neighbours(pts, r, k),
            "sorted nn": lambda: open3d_neighbours(pts, r, k),
            "normals": lambda: reference.normals(pts, r / 2, 30),
            "fpfh": lambda: reference.fpfh(pts, n, r, k),
        }
    res = timed(
        {**{f"omniad {s}": f for s, f in ours.items()}, **{f"Open3D {s}": f for s, f in theirs.items()}}, reps
    )
    print(f"{'step':<11} {'omniad s':>9} {'Open3D s':>9} {'omniad/Open3D':>14} {'CPU s omniad / Open3D':>22}")
    summary: dict[str, list[float | None]] = {}
    for step in STEPS:
        if f"omniad {step}" not in res:
            continue
        mine, _, mine_cpu = res[f"omniad {step}"]
        other, _, other_cpu = res.get(f"Open3D {step}", (None, None, None))
        ratio = f"{mine / other:14.2f}" if other else f"{'—':>14}"
        cpu = f"{mine_cpu:.3f} / {other_cpu:.3f}" if other else f"{mine_cpu:.3f}"
        print(f"{step:<11} {mine:9.3f} {other if other is not None else float('nan'):9.3f} {ratio} {cpu:>22}")
        summary[step] = [mine, other, mine_cpu, other_cpu]
    if not have_o3d:
        print("Open3D not importable: no reference times")
        return
    if "omniad sorted nn" in res:
        print(
            f"sorted nn vs Open3D's rows: {same_rows(res['omniad sorted nn'][1], res['Open3D sorted nn'][1])}"
        )
    a = res["omniad fpfh"][1].cpu().double().numpy()
    b = res["Open3D fpfh"][1]
    exact = float((np.abs(a - b).max(1) < 1e-3).mean())
    corr = min(np.corrcoef(x, y)[0, 1] for x, y in zip(a[:2000], b[:2000], strict=True))
    print(
        f"FPFH agreement: alpha/phi blocks max |diff| {np.abs(a[:, :22] - b[:, :22]).max():.2e}; "
        f"points identical in all 33 bins {exact:.3f}; min per-point correlation (first 2000) {corr:.5f}"
    )
    ours_n = res["omniad normals"][1].cpu().double().numpy()
    agree = float((np.abs((ours_n * res["Open3D normals"][1]).sum(1)) > 0.9999).mean())
    print(f"normals agreement (up to sign, |cos| > 0.9999): {agree:.4f}")
    if args.child:
        print("JSON " + json.dumps(summary))


if __name__ == "__main__":
    main()
