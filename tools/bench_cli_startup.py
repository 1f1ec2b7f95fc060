"""Cold start of the ``omniad`` CLI beside anomalib's (targets.md: `anomalib --help` 33.8 s).

Each command runs in a fresh process, several times; the best and median wall times are
reported, with whether torch was imported (discovery must not import it). Commands run
with the interpreter of this script, so run it with the environment under test.

    python tools/bench_cli_startup.py
    python tools/bench_cli_startup.py --anomalib /tmp/bench-anomalib/bin/anomalib
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

PROBE = (
    "import sys, runpy; sys.argv = ['omniad', *sys.argv[1:]]\n"
    "try:\n    runpy.run_module('omniad', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    "print('TORCH', 'torch' in sys.modules, file=sys.stderr)\n"
)


def timed(argv: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    return time.perf_counter() - start, done.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--anomalib", help="path of an `anomalib` executable to time beside omniad")
    args = parser.parse_args()
    commands = [["--help"], ["list"], ["plugins"]]
    print("| command | best s | median s | imports torch |")
    print("|---|---|---|---|")
    for cmd in commands:
        runs = [timed([sys.executable, "-c", PROBE, *cmd]) for _ in range(args.repeats)]
        torch = any("TORCH True" in err for _, err in runs)
        times = [t for t, _ in runs]
        print(f"| `omniad {' '.join(cmd)}` | {min(times):.2f} | {statistics.median(times):.2f} | {torch} |", flush=True)
    if args.anomalib:
        times = [timed([args.anomalib, "--help"])[0] for _ in range(min(args.repeats, 3))]
        print(f"| `anomalib --help` | {min(times):.2f} | {statistics.median(times):.2f} | True |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
