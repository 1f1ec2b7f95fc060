"""Shared machinery of the tools/bench_scale_<modality>.py growth benchmarks.

Each case (one detector or parser) runs in a fresh child process, its sizes smallest first,
so a case that runs out of time or memory cannot take the benchmark down with it. The peak
RSS of each step is its own: the process's high-water mark (VmHWM) is reset before the step,
so neither an earlier step nor an earlier, smaller size leaves its peak behind. The parent fits the growth exponent ``b`` of ``time ~ n^b`` by
least squares on log(time) against log(n) and compares it with the exponent that
``n log n`` itself shows over the same sizes, so "faster than n log n" means the same thing
for every curve. Sizes a curve cannot reach in the time left are skipped and say so.

A benchmark script defines its cases and a ``step(payload) -> dict`` function run in the
child, then calls :func:`main`:

    python tools/bench_scale_timeseries.py [--quick] [--out docs/scale.md] [--plot docs/scale_timeseries.png]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("OMNIAD_SHARED_DATA", ROOT.parent / "shared"))
MARKER = "@@scale-result@@"
FACTORS = (1, 4, 16)
# one core per step: the machine is shared, and a growth curve must not change shape with
# how many cores happened to be free
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
# how far above n log n's own exponent a curve may lie before it counts as growing faster:
# repeated runs on the busy shared CPU moved exponents by up to about this much
MARGIN = 0.15
# below this, what a step adds to the RSS is allocator noise and has no meaningful exponent
SMALL_MB = 20.0
# below this, a step's time is timer and scheduler noise on the shared machine, not growth
MIN_SECONDS = 0.2


@dataclass
class Case:
    """One curve: a detector (or parser) measured at ``base * factor`` for each factor."""

    name: str
    base: int
    unit: str
    payload: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    steps: tuple[str, ...] = ("fit", "score")


@dataclass
class Point:
    n: int
    seconds: float | None
    peak_mb: float | None
    added_mb: float | None
    extra: dict[str, Any] = field(default_factory=dict)
    skipped: str = ""
    cpu_s: float | None = None


# ---------------------------------------------------------------- fitting (deterministic)


def growth_exponent(ns: Sequence[float], values: Sequence[float]) -> float:
    """Least-squares slope of log(value) on log(n): ``value ~ n^b``."""
    pairs = [(math.log(n), math.log(v)) for n, v in zip(ns, values, strict=True) if n > 0 and v is not None and v > 0]
    if len(pairs) < 2:
        raise ValueError(f"growth_exponent needs at least two positive (n, value) pairs, got {len(pairs)}")
    mx = sum(x for x, _ in pairs) / len(pairs)
    my = sum(y for _, y in pairs) / len(pairs)
    sxx = sum((x - mx) ** 2 for x, _ in pairs)
    if sxx == 0:
        raise ValueError("growth_exponent needs at least two different sizes")
    return sum((x - mx) * (y - my) for x, y in pairs) / sxx


def nlogn_exponent(ns: Sequence[float]) -> float:
    """The exponent ``n log n`` itself shows over these sizes (a little above 1, more at small n)."""
    return growth_exponent(ns, [n * math.log(n) for n in ns])


def verdict(ns: Sequence[float], seconds: Sequence[float | None]) -> tuple[float | None, float | None, str]:
    """(exponent over all points, exponent over the last two, 'faster than n log n' or not).

    The verdict reads the last two sizes: fixed costs (model construction, imports inside a
    step) flatten the first segment, so the largest sizes say more about where a curve goes.
    """
    known = [(n, s) for n, s in zip(ns, seconds, strict=True) if s is not None and s > 0]
    if len(known) < 2:
        return None, None, "not enough sizes measured"
    all_b = growth_exponent([n for n, _ in known], [s for _, s in known])
    last = known[-2:]
    last_b = growth_exponent([n for n, _ in last], [s for _, s in last])
    if last[-1][1] < MIN_SECONDS:
        return all_b, last_b, f"too fast to tell (< {MIN_SECONDS} s)"
    ref = nlogn_exponent([n for n, _ in last])
    if last_b > ref + MARGIN:
        return all_b, last_b, "faster than n log n"
    return all_b, last_b, "within n log n"


# ---------------------------------------------------------------- child side


def current_rss_mb() -> float:
    """Resident set size now (not the peak), from /proc where there is one."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        import psutil

        return psutil.Process().memory_info().rss / 2**20


def _reset_peak() -> bool:
    """Reset this process's peak RSS (Linux >= 4.0: '5' into clear_refs resets VmHWM)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """Peak RSS since the last reset (VmHWM), else since the process started (ru_maxrss)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux, bytes on macOS
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def _cpu_seconds() -> float:
    """User + system CPU time of this process: on a busy shared machine it moves far less than wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def measured(result: dict[str, Any], name: str) -> Iterator[None]:
    """Time the block; record the process's peak RSS while it ran and what it added to the RSS before it.

    Several steps share one child process (fit, then score), so the peak is reset before
    each: without the reset, score's peak would be fit's whenever fit's was higher.
    """
    import gc

    gc.collect()
    before = current_rss_mb()
    reset = _reset_peak()
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    yield
    seconds = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0
    peak = peak_rss_mb()
    result[name] = {"seconds": seconds, "cpu_s": cpu, "peak_mb": peak, "added_mb": max(0.0, peak - before)}
    if not reset:
        result[name]["note"] = "peak since the process started (could not reset it)"


def quiet(_message: str) -> None:
    """omniad's progress lines off: the child's stdout carries the result."""


def child_main(step: Callable[[dict[str, Any]], dict[str, Any]], payload_json: str) -> None:
    """Run ``step`` at each size of the payload, smallest first, in this one process.

    One process per case, not per size: on the busy shared machine importing torch and the
    plugins took 1-2 minutes of wall time, paid once here. Each size's result is appended to
    ``results_file`` as soon as it exists, so a case stopped at its time limit keeps what it
    measured. A size is skipped when the time expected for it (the last size's steps scaled by
    the exponent seen so far, 1.5 before there are two sizes, plus that size's time outside the
    steps, except after the first size, whose outside time is mostly the imports) is more than what is left before ``deadline``.
    """
    import gc
    import shutil

    payload = json.loads(payload_json)
    if "sizes" not in payload:  # a single size
        print(MARKER + json.dumps(step(payload)), flush=True)
        return
    out = Path(payload["results_file"])
    walls: list[tuple[int, float, float]] = []  # (n, seconds in the steps, seconds outside them)
    stopped = ""
    for n in payload["sizes"]:
        left = payload["deadline"] - time.time()
        expect = _expected(walls, n)
        if not stopped and expect is not None and expect > left:
            stopped = f"skipped: about {expect:.0f} s expected, {max(left, 0):.0f} s left"
        if stopped:
            record: dict[str, Any] = {"n": n, "skipped": stopped}
        else:
            work = Path(payload["work"]) / str(n)
            work.mkdir(parents=True, exist_ok=True)
            t0 = time.monotonic()
            res = step({**payload, "n": n, "work": str(work)})
            wall = time.monotonic() - t0
            inside = sum(res[s]["seconds"] for s in payload["steps"])
            walls.append((n, inside, wall - inside))
            record = {"n": n, "wall": wall, **res}
            shutil.rmtree(work, ignore_errors=True)
            gc.collect()
        with out.open("a") as fh:
            fh.write(json.dumps(record) + "\n")


# ---------------------------------------------------------------- parent side


def _child_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONHASHSEED": "0", "OMNIAD_SHARED_DATA": str(SHARED)}
    for var in THREAD_VARS:
        env[var] = "1"
    return env


def run_child(script: Path, payload: dict[str, Any], timeout: float) -> tuple[list[dict[str, Any]], str]:
    """Run one case of ``script`` in a fresh interpreter: the per-size records it wrote, and why it stopped early."""
    results = Path(payload["results_file"])
    cmd = [sys.executable, str(script), "--child", json.dumps(payload)]
    error = ""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_child_env())
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            error = f"child failed (exit {proc.returncode}): {tail[:300]}"
    except subprocess.TimeoutExpired:
        error = f"stopped: over the {timeout:.0f} s left for the case"
    records = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    return records, error


@dataclass
class Curve:
    case: Case
    step: str
    points: list[Point]


def measure_case(script: Path, case: Case, factors: Sequence[int], deadline: float, work: Path,
                 log: Callable[[str], None]) -> list[Curve]:
    """Every step of ``case`` at every size, in one child (see :func:`child_main`), until its deadline."""
    steps = case.steps
    sizes = [case.base * f for f in factors]
    folder = work / case.name.replace("/", "_")
    folder.mkdir(parents=True, exist_ok=True)
    left = deadline - time.monotonic()
    payload = {**case.payload, "case": case.name, "sizes": sizes, "steps": list(steps), "work": str(folder),
               "deadline": time.time() + left, "results_file": str(folder / "results.jsonl")}
    t0 = time.monotonic()
    records, error = run_child(script, payload, timeout=max(left, 1.0) + 15.0)
    by_n = {r["n"]: r for r in records}
    curves = {s: Curve(case, s, []) for s in steps}
    for n in sizes:
        r = by_n.get(n)
        if r is None or "skipped" in r:
            why = r["skipped"] if r is not None else (error or "not reached")
            for s in steps:
                curves[s].points.append(Point(n, None, None, None, skipped=why))
            log(f"{case.name} n={n:,}: {why}")
            continue
        extra = r.get("extra", {})
        for s in steps:
            curves[s].points.append(Point(n, r[s]["seconds"], r[s]["peak_mb"], r[s]["added_mb"], extra,
                                          cpu_s=r[s].get("cpu_s")))
        log(f"{case.name} n={n:,}: " + ", ".join(
            f"{s} {r[s]['seconds']:.2f} s (CPU {r[s].get('cpu_s', float('nan')):.2f}) peak {r[s]['peak_mb']:.0f} MB "
            f"(+{r[s]['added_mb']:.0f})" for s in steps) + f"; size wall {r['wall']:.1f} s {extra or ''}")
    log(f"{case.name}: child wall {time.monotonic() - t0:.1f} s")
    return list(curves.values())


def _expected(walls: list[tuple[int, float, float]], n: int) -> float | None:
    if not walls:
        return None
    b = 1.5
    if len(walls) >= 2:
        b = max(1.0, growth_exponent([w[0] for w in walls], [max(w[1], 1e-3) for w in walls]))
    last_n, inside, outside = walls[-1]
    # the first size's time outside the steps is mostly the imports, paid once per process
    return max(inside, 1e-3) * (n / last_n) ** b + (outside if len(walls) >= 2 else 0.0)


# ---------------------------------------------------------------- reporting


def _fmt_n(n: int) -> str:
    for div, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= div and n % (div // 10) == 0:
            value = n / div
            return f"{value:g}{suffix}"
    return f"{n:,}"


def _cost(p: Point) -> float | None:
    """CPU time where the child reported it (steady under load), else wall time."""
    return p.cpu_s if p.cpu_s is not None else p.seconds


def table(curves: list[Curve]) -> str:
    """Markdown: one row per curve, time and peak RSS per size, both exponents and the verdict."""
    factors = max(len(c.points) for c in curves)
    head = ["case", "step", "unit"]
    head += [f"{f}x: wall s (CPU s) / peak MB (+added)" for f in FACTORS[:factors]]
    head += ["CPU-time exp. (all / last two)", "added-RSS exp.", "vs n log n"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in curves:
        cells = [f"`{c.case.name}`", c.step, c.case.unit]
        for p in c.points:
            if p.seconds is None:
                cells.append(f"{_fmt_n(p.n)}: — ({p.skipped})")
            else:
                cpu = "" if p.cpu_s is None else f" ({p.cpu_s:.2f})"
                cells.append(f"{_fmt_n(p.n)}: {p.seconds:.2f}{cpu} s / {p.peak_mb:.0f} MB (+{p.added_mb:.0f})")
        ns = [p.n for p in c.points]
        all_b, last_b, word = verdict(ns, [_cost(p) for p in c.points])
        cells.append("—" if all_b is None else f"{all_b:.2f} / {last_b:.2f}")
        known = [p for p in c.points if p.added_mb is not None and p.added_mb > 0]
        measured_points = [p for p in c.points if p.added_mb is not None]
        if len(measured_points) < 2 or len(known) < 2:
            cells.append("—")
        elif max(p.added_mb for p in measured_points) < SMALL_MB:  # type: ignore[type-var]
            cells.append(f"flat (< {SMALL_MB:.0f} MB)")
        else:
            cells.append(f"{growth_exponent([p.n for p in known], [p.added_mb for p in known]):.2f}")  # type: ignore[misc]
        cells.append(word)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(curves: list[Curve], path: Path, title: str) -> str:
    """Log-log time and peak-RSS curves in one PNG; a one-line reason when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return f"plot skipped: matplotlib is not installed (pip install matplotlib to get {path.name})"
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(11, 4.2))
    for c in curves:
        pts = [p for p in c.points if p.seconds is not None]
        if not pts:
            continue
        label = f"{c.case.name} {c.step}"
        style = {"fit": "-o", "score": "--s"}.get(c.step, ":^")
        ax_t.plot([p.n for p in pts], [_cost(p) for p in pts], style, label=label)
        ax_m.plot([p.n for p in pts], [p.peak_mb for p in pts], style, label=label)
    for ax, ylabel in ((ax_t, "CPU seconds of the step"), (ax_m, "peak RSS of the step's process (MB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("n (" + ", ".join(sorted({c.case.unit for c in curves})) + ")")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
    ax_t.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return f"plot written to {path}"


def replace_block(path: Path, key: str, text: str) -> None:
    """Put ``text`` between ``<!-- key:start -->`` and ``<!-- key:end -->`` in ``path`` (appended if absent)."""
    start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
    block = f"{start}\n{text.rstrip()}\n{end}"
    old = path.read_text() if path.exists() else ""
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    new = pattern.sub(lambda _m: block, old) if pattern.search(old) else old.rstrip() + "\n\n" + block + "\n"
    path.write_text(new)


def machine_line() -> str:
    import platform

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()} "
            f"{os.cpu_count()} cores (shared, load average {load:.1f} at the end), Python {platform.python_version()}, "
            f"one thread per step ({'/'.join(THREAD_VARS[:2])}=1)")


def main(script: str, modality: str, cases: Sequence[Case], quick_cases: Sequence[Case],
         step: Callable[[dict[str, Any]], dict[str, Any]], *, budget_s: float = 570.0, describe: str = "") -> None:
    """Command line shared by every bench_scale_<modality>.py (see the module docstring)."""
    parser = argparse.ArgumentParser(description=f"Growth of fit / score cost with data size: {modality}")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a smoke run (seconds)")
    parser.add_argument("--only", nargs="*", help="case names to run (default: all)")
    parser.add_argument("--budget", type=float, default=None, help=f"seconds for the whole run (default {budget_s:.0f})")
    parser.add_argument("--out", type=Path, help=f"markdown file whose scale_{modality} block gets the table")
    parser.add_argument("--plot", type=Path, help="log-log PNG (default: none)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    for var in THREAD_VARS:
        os.environ.setdefault(var, "1")
    if args.child is not None:
        child_main(step, args.child)
        return
    chosen = list(quick_cases if args.quick else cases)
    if args.only:
        unknown = set(args.only) - {c.name for c in chosen}
        if unknown:
            raise SystemExit(f"--only: unknown case(s) {sorted(unknown)}; choose from {[c.name for c in chosen]}")
        chosen = [c for c in chosen if c.name in args.only]
    budget = args.budget if args.budget is not None else (300.0 if args.quick else budget_s)
    start = time.monotonic()
    log = lambda msg: print(f"[{time.monotonic() - start:6.1f} s] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    curves: list[Curve] = []
    with tempfile.TemporaryDirectory(prefix=f"scale-{modality}-") as tmp:
        for i, case in enumerate(chosen):
            # each case gets its share of what is left, so one slow case cannot starve the rest
            share = (budget - (time.monotonic() - start)) / (len(chosen) - i)
            deadline = time.monotonic() + share
            curves += measure_case(Path(script).resolve(), case, FACTORS, deadline, Path(tmp), log)
    text = "\n".join([
        f"Sizes 1x / 4x / 16x of each case's base; {describe}".rstrip(),
        "",
        table(curves),
        "",
        *[f"- `{c.name}`: {c.note}" for c in chosen if c.note],
        "",
        f"Measured {machine_line()}; total {time.monotonic() - start:.0f} s.",
    ])
    print(text)
    if args.plot:
        print(plot(curves, args.plot, f"omniad {modality}: cost against data size (log-log)"), file=sys.stderr)
    if args.out:
        replace_block(args.out, f"scale_{modality}", text)
        print(f"table written to {args.out}", file=sys.stderr)
