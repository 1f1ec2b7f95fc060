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

CHILD = """
import json, time, numpy as np
t0 = time.perf_counter(); c0 = time.process_time()
from omniad_timeseries.detectors.profile import self_join
x = np.cumsum(np.random.default_rng(0).normal(size={n}))
first = self_join(x, {m}, "{backend}")
cold, cold_cpu = time.perf_counter() - t0, time.process_time() - c0
t1 = time.perf_counter(); self_join(x, {m}, "{backend}"); warm = time.perf_counter() - t1
print(json.dumps({{"cold_s": cold, "cold_cpu_s": cold_cpu, "warm_s": warm, "checksum": float(first.sum())}}))
"""


def measure(n: int, m: int, backend: str) -> dict[str, float]:
    code = CHILD.format(n=n, m=m, backend=backend)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lengths", default="1000,4000,16000")
    parser.add_argument("--window", type=int, default=100)
    args = parser.parse_args()
    print("| length | numpy cold s | numpy warm s | stumpy cold s (CPU s) | stumpy warm s | same profile |")
    print("|---|---|---|---|---|---|")
    for n in map(int, args.lengths.split(",")):
        a, b = measure(n, args.window, "numpy"), measure(n, args.window, "stumpy")
        same = abs(a["checksum"] - b["checksum"]) <= 1e-6 * abs(b["checksum"])
        print(f"| {n} | {a['cold_s']:.2f} | {a['warm_s']:.2f} | {b['cold_s']:.1f} ({b['cold_cpu_s']:.1f}) | "
              f"{b['warm_s']:.2f} | {same} |", flush=True)


if __name__ == "__main__":
    main()
