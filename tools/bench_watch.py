"""Benchmark: `omniad watch` end to end against drain3's masked parsing, latency at 10,000 lines/s, memory over time.

All in one process, on synthetic HDFS-like logs (``omniad_logs.datasets.synthetic``, seeded) with
dense timestamps (10,000 lines per second of log time, as a busy service writes them):

1. throughput: drain3 0.9.11 masked ``add_log_message`` on the stream's contents (header
   stripped) beside ``watch(model, file, start="begin", max_lines=N)`` with ``logs.pca`` and
   ``logs.deeplog`` (read, parse, session, score, decide, write alerts); best of ``--repeats``
   after a warm-up watch that pays the lazy imports. Targets: pca >= 1x drain3, deeplog >= 0.5x.
2. latency: a writer subprocess appends lines at ``--rate`` lines/s in chunks every 10 ms and
   records each chunk's write time; ``watch`` (DeepLog, ``every=True``) follows the file. A
   line's latency = its record's read time + ``delay_s`` - its write time. Target: p99 < 1 s.
3. memory: an in-process follower makes ``--lines`` HDFS-like lines (new session ids all the
   time, 1 line in 2,000 of a never-seen template, ``max_templates=200`` so templates are
   evicted); RSS at 1M lines and at the end. Target: within 10% of each other.

    python tools/bench_watch.py [--lines 10000000] [--latency-seconds 25] [--write]

``--write`` replaces the block between ``<!-- bench_watch:start -->`` and ``<!-- bench_watch:end -->``
in docs/benchmarks.md (or appends it under "## Live watch (`omniad watch`)").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench_watch:start -->", "<!-- bench_watch:end -->"
HEADING = "## Live watch (`omniad watch`)"
SESSION = re.compile(r"sess_(\d+)")
T0 = datetime(2026, 1, 1)


def quiet(_: str) -> None:
    pass


def base_lines(log: Path) -> list[tuple[str, str | None, str]]:
    """Each line without date and time, split around its session id: (before, digits or None, after)."""
    out = []
    for line in log.read_text().splitlines():
        rest = line.split(" ", 2)[2]
        m = SESSION.search(rest)
        out.append((rest[:m.start()], m.group(1), rest[m.end():]) if m else (rest, None, ""))
    return out


def endless(base: list[tuple[str, str | None, str]], rate: int = 10_000, cycles: bool = True):
    """Lines with dense time stamps (``rate`` per second); each pass over ``base`` renames its sessions."""
    i, c = 0, 0
    stamp = ""
    while True:
        for pre, num, post in base:
            if i % rate == 0:
                stamp = (T0 + timedelta(seconds=i // rate)).strftime("%y%m%d %H%M%S")
            i += 1
            yield f"{stamp} {pre}sess_{c:04d}{num}{post}" if (num is not None and cycles) else (
                f"{stamp} {pre}sess_{num}{post}" if num is not None else f"{stamp} {pre}")
        if not cycles:
            return
        c += 1


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def make_data(work: Path, seed: int) -> tuple[Path, Path, list]:
    from omniad_logs.datasets.synthetic import SyntheticParams, generate

    (work / "fit").mkdir()
    (work / "gen").mkdir()
    generate(SyntheticParams(seed=seed, n_sessions=1000, anomaly_fraction=0.03), work / "fit")
    generate(SyntheticParams(seed=seed + 1, n_sessions=20000, anomaly_fraction=0.03), work / "gen")
    base = base_lines(work / "gen" / "Synthetic.log")
    stream = work / "stream.log"
    stream.write_text("\n".join(endless(base, cycles=False)) + "\n")
    return work / "fit" / "Synthetic.log", stream, base


def fit_models(fit_log: Path, work: Path) -> dict[str, Path]:
    from omniad.workflow import fit

    out = {}
    for det in ("logs.pca", "logs.deeplog"):
        t = time.perf_counter()
        model = fit(det, str(fit_log), source_params={"session_pattern": r"sess_\d+"}, seed=0, say=quiet)
        out[det] = work / det.replace(".", "_")
        model.save(out[det])
        print(f"fitted {det} in {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
    return out


def run_watch(model: Path, source: Path, alerts: Path, **kw):
    from omniad.watch import watch

    for p in (alerts, alerts.with_name(alerts.name + ".checkpoint")):
        p.unlink(missing_ok=True)
    return watch(model, str(source), alerts=alerts, start="begin", status_every=1e9, say=quiet, **kw)


def throughput(models: dict[str, Path], stream: Path, work: Path, repeats: int) -> dict[str, float]:
    from bench_log_parsing import drain3_miner

    lines = stream.read_text().splitlines()
    n = len(lines)
    contents = [ln.split(": ", 1)[1] if ": " in ln else ln for ln in lines]
    for m in models.values():  # warm-up: lazy imports, torch
        run_watch(m, stream, work / "warm.jsonl", max_lines=2000)
    out = {"lines": n}
    best = float("inf")
    for _ in range(repeats):
        add = drain3_miner(masked=True).add_log_message
        t = time.perf_counter()
        for c in contents:
            add(c)
        best = min(best, time.perf_counter() - t)
    out["drain3"] = n / best
    for det, m in models.items():
        best = float("inf")
        for _ in range(repeats):
            s = run_watch(m, stream, work / "tp.jsonl", max_lines=n)
            assert s.lines == n, (s.lines, n)
            best = min(best, s.seconds)
        out[det] = n / best
        print(f"{det}: {out[det]:,.0f} lines/s (drain3 {out['drain3']:,.0f})", file=sys.stderr, flush=True)
    return out


def writer(base_file: str, target: str, rate: int, seconds: float, log: str) -> None:
    """Subprocess: wait for a line on stdin, then append ``rate`` lines/s in 10 ms chunks; log each chunk."""
    base = base_lines(Path(base_file))
    gen = endless(base, rate)
    per = max(1, rate // 100)
    sys.stdin.readline()
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    marks = []
    t0 = time.monotonic()
    k, lineno = 0, 0
    while k * 0.01 < seconds:
        wait = t0 + k * 0.01 - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        chunk = [next(gen) for _ in range(per)]
        os.write(fd, ("\n".join(chunk) + "\n").encode())
        marks.append((lineno + 1, lineno + per, time.time()))
        lineno += per
        k += 1
    os.close(fd)
    Path(log).write_text(json.dumps(marks))


def latency(model: Path, base_file: Path, work: Path, rate: int, seconds: float) -> dict[str, float]:
    from omniad.watch.follow import FileFollower

    target, log, alerts = work / "live.log", work / "marks.json", work / "lat.jsonl"
    target.touch()
    proc = subprocess.Popen([sys.executable, __file__, "--writer", str(base_file), str(target), str(rate),
                             str(seconds), str(log)], stdin=subprocess.PIPE, text=True)

    class Go(FileFollower):  # the writer starts when the watch makes its first read (model loaded)
        started = False

        def poll(self, limit: int = 4096):
            if not self.started:
                self.started = True
                proc.stdin.write("go\n")
                proc.stdin.flush()
            return super().poll(limit)

    total = int(rate // 100 * 100 * seconds)
    s = run_watch(model, target, alerts, every=True, max_lines=total, until=f"{seconds + 60:.0f}s",
                  follower=Go(target, start="begin"))
    proc.wait()
    written = {}
    for first, last, t in json.loads(log.read_text()):
        for i in range(first, last + 1):
            written[i] = t
    lat = []
    for line in alerts.read_text().splitlines():
        r = json.loads(line)
        if r.get("kind") != "line" or r.get("line") not in written:
            continue
        made = datetime.fromisoformat(r["time"].replace("Z", "+00:00")).timestamp() + (r["delay_s"] or 0.0)
        lat.append(made - written[r["line"]])
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]  # noqa: E731
    return {"lines": s.lines, "records": len(lat), "p50": q(0.5), "p99": q(0.99), "max": lat[-1],
            "offered_s": seconds, "rate": rate}


def memory(model: Path, base: list, work: Path, n_lines: int, every_new: int = 2000) -> dict:
    from omniad.watch.follow import Follower, Line

    class Synthetic(Follower):
        def __init__(self) -> None:
            super().__init__()
            self.gen = endless(base)
            self.n = 0
            self.rng = random.Random(0)
            self.rss: dict[int, float] = {}
            self.last = "260101 000000"

        def describe(self) -> str:
            return "synthetic HDFS-like lines"

        def poll(self, limit: int) -> list[Line]:
            now = time.time()
            out = []
            for _ in range(limit):
                self.n += 1
                if self.n % every_new == 0:
                    words = " ".join("".join(self.rng.choices("abcdefghijklmnopqrstuvwxyz", k=7)) for _ in range(5))
                    text = f"{self.last[:13]} 123 WARN odd.Thing: {words}"  # the current time text
                else:
                    text = self.last = next(self.gen)
                out.append(Line(text, "synthetic.log", self.n, now))
                if self.n % 1_000_000 == 0:
                    self.rss[self.n] = rss_mb()
            return out

    f = Synthetic()
    t = time.perf_counter()
    s = run_watch(model, Path("synthetic.log"), work / "mem.jsonl", max_lines=n_lines, follower=f,
                  options={"max_templates": 200})
    return {"lines": s.lines, "rss": f.rss, "seconds": time.perf_counter() - t, "rate": s.lines / s.seconds,
            "evicted": s.status.get("templates_evicted", 0), "status": s.status, "alerts": s.alerts}


def block(tp: dict, lat: dict, mem: dict, command: str, wall: float) -> str:
    from importlib.metadata import version

    d, p, dl = tp["drain3"], tp["logs.pca"], tp["logs.deeplog"]
    ok = lambda b: "met" if b else "**missed**"  # noqa: E731
    r1 = mem["rss"].get(1_000_000, float("nan"))
    last = max(mem["rss"]) if mem["rss"] else 0
    rl = mem["rss"].get(last, float("nan"))
    growth = (rl / r1 - 1) * 100
    rss_row = ", ".join(f"{k // 1_000_000}M: {v:.0f}" for k, v in sorted(mem["rss"].items()))
    lines = [
        START,
        f"Command: `{command}` ({datetime.now(UTC):%Y-%m-%d}, {wall / 60:.1f} min)  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores (shared), no GPU, Python "
        f"{platform.python_version()}, drain3 {version('drain3')}.  ",
        "Data: synthetic HDFS-like logs (`omniad_logs.datasets.synthetic`, seeded; fit 1,000 sessions, stream "
        "20,000 sessions) with dense timestamps (10,000 lines per second of log time); models fitted with "
        "`session_pattern=sess_\\d+`.",
        "",
        "| measure | value | target | |",
        "|---|---:|---|---|",
        f"| drain3 masked `add_log_message` (contents only) | {d:,.0f} lines/s | | |",
        f"| `omniad watch` logs.pca, end to end | {p:,.0f} lines/s ({p / d:.2f}x drain3) | >= 1x drain3 | {ok(p >= d)} |",
        f"| `omniad watch` logs.deeplog, end to end | {dl:,.0f} lines/s ({dl / d:.2f}x drain3) | >= 0.5x drain3 | "
        f"{ok(dl >= 0.5 * d)} |",
        f"| latency write -> record, DeepLog, {lat['rate']:,} lines/s offered for {lat['offered_s']:g} s "
        f"({lat['records']:,} line records) | p50 {lat['p50'] * 1000:.0f} ms, p99 {lat['p99'] * 1000:.0f} ms, "
        f"max {lat['max'] * 1000:.0f} ms | p99 < 1 s | {ok(lat['p99'] < 1.0)} |",
        f"| RSS, logs.pca, {mem['lines']:,} lines (max_templates=200) | {rss_row} MB; {last // 1_000_000}M vs 1M "
        f"{growth:+.1f}% | within 10% | {ok(abs(growth) <= 10)} |",
        "",
        f"Throughput: {tp['lines']:,} lines from a file, `watch(..., start=\"begin\", max_lines=N)`, loop time "
        "(model loading excluded), best of the repeats after a warm-up watch; drain3 best of the repeats on "
        "the same lines' contents. Latency: a writer process appends 100-line chunks every 10 ms and logs "
        "each chunk's write time; latency = record's read time + `delay_s` - write time. Memory: an in-process "
        f"follower makes lines endlessly (new session ids, 1 in 2,000 lines of a never-seen template); "
        f"{mem['evicted']:,} templates evicted, {mem['alerts']:,} alerts, {mem['rate']:,.0f} lines/s.",
        END,
    ]
    return "\n".join(lines)


def write(path: Path, text_block: str) -> None:
    text = path.read_text() if path.exists() else ""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + text_block + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + f"\n\n\n{HEADING}\n\n" + text_block + "\n"
    path.write_text(text)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--writer":
        a = sys.argv[2:]
        writer(a[0], a[1], int(a[2]), float(a[3]), a[4])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000, help="lines of the memory run")
    parser.add_argument("--latency-seconds", type=float, default=25.0)
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true", help="put the block into docs/benchmarks.md")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    t = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_watch_") as tmp:
        work = Path(tmp)
        fit_log, stream, base = make_data(work, args.seed)
        models = fit_models(fit_log, work)
        tp = throughput(models, stream, work, args.repeats)
        lat = latency(models["logs.deeplog"], work / "gen" / "Synthetic.log", work, args.rate, args.latency_seconds)
        print(lat, file=sys.stderr, flush=True)
        mem = memory(models["logs.pca"], base, work, args.lines)
        print(mem, file=sys.stderr, flush=True)
    command = "python tools/bench_watch.py " + " ".join(sys.argv[1:])
    out = block(tp, lat, mem, command.strip(), time.perf_counter() - t)
    print(out)
    if args.write:
        write(DOCS, out)


if __name__ == "__main__":
    main()
