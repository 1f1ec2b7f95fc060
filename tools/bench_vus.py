"""Benchmark: omniad's VUS-ROC / VUS-PR against TSB-AD 1.5's ``generate_curve`` ("opt", 250 thresholds).

Both run on the same synthetic series (anomaly ranges of 5-200 points: a single one, and one
per 5,000 points; scores = noise plus a label-correlated bump; buffer ``--window``, default
100 as in TSB-AD's benchmark anchor). The values must agree to 1e-6 or the script exits non-zero.

TSB-AD pins scikit-learn 1.5 and numpy < 2, so it runs in its own interpreter::

    uv venv /tmp/bench-tsbad -p 3.11
    uv pip install -p /tmp/bench-tsbad/bin/python tsb-ad==1.5 'scikit-learn<1.6'
    .venv/bin/python tools/bench_vus.py --tsbad-python /tmp/bench-tsbad/bin/python \\
        --out packages/omniad-timeseries/docs/metrics.md [--with-1m]

``--tsbad-path DIR`` instead imports TSB-AD in-process from a folder holding ``TSB_AD``.
``--out FILE`` replaces the block between ``<!-- bench_vus:start -->`` and
``<!-- bench_vus:end -->`` in FILE (or writes FILE when it has no such block).
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
from pathlib import Path

import numpy as np

START, END = "<!-- bench_vus:start -->", "<!-- bench_vus:end -->"
DEFAULT_TSBAD_PYTHON = "/tmp/bench-tsbad/bin/python"


def make_case(n: int, n_ranges: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.zeros(n, dtype=np.int64)
    for start in rng.choice(n - 250, size=n_ranges, replace=False):
        labels[start : start + int(rng.integers(5, 200))] = 1
    scores = rng.normal(0, 1, n) + labels * rng.uniform(0.5, 2.0)
    return labels, scores


def tsbad_worker(data: str) -> None:
    """Runs under TSB-AD's interpreter: time generate_curve, print JSON."""
    from TSB_AD.evaluation.basic_metrics import generate_curve

    case = np.load(data)
    start = time.perf_counter()
    out = generate_curve(case["labels"], case["scores"], int(case["window"]), "opt", 250)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "vus_roc": float(out[6]), "vus_pr": float(out[7])}))


def run_tsbad(args: argparse.Namespace, labels: np.ndarray, scores: np.ndarray, window: int) -> dict:
    if args.tsbad_path:
        if args.tsbad_path not in sys.path:
            sys.path.insert(0, args.tsbad_path)
        from TSB_AD.evaluation.basic_metrics import generate_curve

        start = time.perf_counter()
        out = generate_curve(labels, scores, window, "opt", 250)
        return {"seconds": time.perf_counter() - start, "vus_roc": float(out[6]), "vus_pr": float(out[7])}
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "case.npz")
        np.savez(data, labels=labels, scores=scores, window=window)
        proc = subprocess.run(
            [args.tsbad_python, os.path.abspath(__file__), "--worker", data],
            capture_output=True, text=True, check=False,
        )
    if proc.returncode != 0:
        sys.exit(f"bench_vus: TSB-AD worker failed under {args.tsbad_python}: {proc.stderr.strip()[-800:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_omniad(labels: np.ndarray, scores: np.ndarray, window: int, repeats: int) -> dict:
    from omniad_timeseries.metrics.vus import vus

    vus(*make_case(5000, 2, seed=1), window)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = vus(labels, scores, window)
        times.append(time.perf_counter() - start)
    return {"seconds": float(np.median(times)), **out}


def table(rows: list[dict], args: argparse.Namespace, command: str) -> str:
    lines = [
        START,
        f"Command: `{command}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}; buffer window {args.window}, 250 thresholds; omniad = median of "
        f"{args.repeats} runs, TSB-AD = one run.",
        "",
        "| length | anomaly ranges | TSB-AD `opt` (s) | omniad (s) | speed-up | max abs. difference |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {r['ranges']} | {r['tsbad']:.2f} | {r['omniad']:.4f} | "
            f"{r['tsbad'] / r['omniad']:.0f}x | {r['diff']:.1e} |"
        )
    lines.append(END)
    return "\n".join(lines)


def write(path: Path, block: str) -> None:
    text = path.read_text() if path.exists() else ""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = block + "\n"
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--tsbad-python", default=os.environ.get("OMNIAD_TSBAD_PYTHON", DEFAULT_TSBAD_PYTHON),
                        help="interpreter with tsb-ad==1.5 installed (default: %(default)s)")
    parser.add_argument("--tsbad-path", default=os.environ.get("OMNIAD_TSBAD_PATH"),
                        help="folder holding the TSB_AD package, imported in-process instead")
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--with-1m", action="store_true", help="also 1,000,000 points (TSB-AD takes ~40 s)")
    parser.add_argument("--out", type=Path, help="write the Markdown table into this file")
    args = parser.parse_args()
    if args.worker:
        tsbad_worker(args.worker)
        return
    if not args.tsbad_path and not Path(args.tsbad_python).exists():
        sys.exit(f"bench_vus: no TSB-AD interpreter at {args.tsbad_python}; see the module docstring")

    lengths = [10_000, 100_000] + ([1_000_000] if args.with_1m else [])
    rows = []
    # TSB-AD loops over ranges in Python, so it is fastest with a single range: time both regimes
    for n, n_ranges in [(length, r) for length in lengths for r in sorted({1, length // 5000})]:
        labels, scores = make_case(n, n_ranges)
        ref = run_tsbad(args, labels, scores, args.window)
        got = run_omniad(labels, scores, args.window, args.repeats)
        diff = max(abs(ref["vus_roc"] - got["vus_roc"]), abs(ref["vus_pr"] - got["vus_pr"]))
        n_ranges = int(np.sum(np.diff(np.r_[0, labels]) == 1))
        rows.append({"n": n, "ranges": n_ranges, "tsbad": ref["seconds"], "omniad": got["seconds"], "diff": diff})
        print(f"n={n:,}: TSB-AD {ref['seconds']:.2f} s, omniad {got['seconds']:.4f} s, "
              f"VUS-PR {got['vus_pr']:.6f} / {ref['vus_pr']:.6f}, max diff {diff:.1e}", file=sys.stderr)
        if diff > 1e-6:
            sys.exit(f"bench_vus: values differ by {diff:.2e} at n={n} (omniad {got}, TSB-AD {ref})")
    command = "python tools/bench_vus.py " + " ".join(sys.argv[1:])
    block = table(rows, args, command)
    print(block)
    if args.out:
        write(args.out, block)


if __name__ == "__main__":
    main()
