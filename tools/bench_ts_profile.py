"""Matrix-profile self-join: omniad's numpy STOMP vs stumpy, cold (fresh process) and warm.

Why ``profile.py``'s ``backend="auto"`` switches to stumpy only above 20,000 points: stumpy's
numba kernels compile in every fresh process, which dominates a short series. Each
measurement runs in its own process; "cold" includes imports and compilation.

Usage: .venv/bin/python tools/bench_ts_profile.py [--lengths 1000,4000,16000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CHILD = """
import json, sys, time, numpy as np
t0 = time.perf_counter(); c0 = time.process_time()
from omniad_timeseries.detectors.profile import self_join
x = np.cumsum(np.random.default_rng(0).normal(size={n}))
first = self_join(x, {m}, "{backend}")
cold, cold_cpu = time.perf_counter() - t0, time.process_time() - c0
t1 = time.perf_counter(); self_join(x, {m}, "{backend}"); warm = time.perf_counter() - t1
np.save(sys.argv[1], first)
print(json.dumps({{"cold_s": cold, "cold_cpu_s": cold_cpu, "warm_s": warm}}))
"""


def measure(n: int, m: int, backend: str, out_dir: Path) -> dict:
    code = CHILD.format(n=n, m=m, backend=backend)
    path = out_dir / f"{backend}_{n}.npy"
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1]) | {"profile": np.load(path)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lengths", default="1000,4000,16000")
    parser.add_argument("--window", type=int, default=100)
    args = parser.parse_args()
    print("| length | numpy cold s | numpy warm s | stumpy cold s (CPU s) | stumpy warm s | max abs difference |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in map(int, args.lengths.split(",")):
            a, b = measure(n, args.window, "numpy", Path(tmp)), measure(n, args.window, "stumpy", Path(tmp))
            diff = float(np.max(np.abs(a["profile"] - b["profile"])))
            print(f"| {n} | {a['cold_s']:.2f} | {a['warm_s']:.2f} | {b['cold_s']:.1f} ({b['cold_cpu_s']:.1f}) | "
                  f"{b['warm_s']:.2f} | {diff:.1e} |", flush=True)


if __name__ == "__main__":
    main()
