"""A seeded log generator: workflows of typed templates, injected anomalies, written as loghub files.

The generator writes what a real system would leave behind, in loghub's layout, and the
dataset then reads those files back through the HDFS-style loader (header format, template
mining, grouping by session id, label file): the demo exercises the same parsing path as
real data. Files per setting (``<root>/<key>/``):

- ``Synthetic.log``: raw lines ``<Date> <Time> <Pid> <Level> <Component>: <Content>``
  (HDFS's header), sessions interleaved in time as concurrent requests are;
- ``Synthetic.log_structured.csv``: loghub ground truth per line (EventId, EventTemplate)
  plus ``Label`` (1 = a line the anomaly injected or disturbed);
- ``anomaly_label.csv``: ``BlockId,Label`` (Normal/Anomaly) per session, HDFS's format;
- ``sessions.csv``: ``SessionId,Kind,Severity`` of every anomalous session.

Normal sessions run one of three workflows (web request, upload, batch job) whose steps
carry typed parameters (ips, ports, latencies, sizes, user names...). Anomaly kinds, with
the lines marked in the per-line target:

- ``unseen_template``: 1-3 lines of error templates no normal session uses (those lines);
- ``broken_order``: two steps swapped (both lines);
- ``burst``: one step repeated 5/8/11 extra times by severity (the repeats);
- ``missing_step``: 1-2 required steps left out (the line after the gap, where the
  sequence becomes observably wrong);
- ``odd_parameter``: a latency 20x/200x/2000x its usual value (that line; the template
  is a normal one, so only detectors that read parameters can see it).

Background lines without a session id (heartbeats, GC) are mixed in and counted by the
loader as ``lines_without_session``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from omniad.data import Subset
from omniad.errors import DataError
from omniad_logs.datasets.base import LogDataset
from omniad_logs.datasets.params import SyntheticParams

#: bump when the generated files change for the same parameters (invalidates caches)
GENERATOR_VERSION = 1
LOG_FORMAT = "<Date> <Time> <Pid> <Level> <Component>: <Content>"
SESSION_PATTERN = r"sess_\d+"
LOG_NAME = "Synthetic.log"
START = datetime(2024, 1, 1, tzinfo=UTC).timestamp()


@dataclass(frozen=True)
class Step:
    component: str
    level: str
    template: str  # Python format string with typed slots, e.g. "... in {ms} ms"
    repeat: tuple[int, int] = (1, 1)
    optional: float = 0.0  # probability of skipping the step in a normal session

    def loghub_template(self) -> str:
        import re

        return re.sub(r"\{[a-z_]+\}", "<*>", self.template)


WORKFLOWS: dict[str, tuple[float, tuple[Step, ...]]] = {
    "request": (0.6, (
        Step("api.Server", "INFO", "Received request {sid} from {ip}:{port}"),
        Step("auth.Service", "INFO", "User {user} authenticated for {sid} in {ms} ms"),
        Step("db.Pool", "INFO", "Query on table {table} returned {rows} rows for {sid} in {ms} ms"),
        Step("cache.Store", "INFO", "Cached {bytes} bytes under key {key} for {sid}", optional=0.5),
        Step("api.Server", "INFO", "Request {sid} completed with status {status} in {ms} ms"),
    )),
    "upload": (0.25, (
        Step("storage.Gateway", "INFO", "Upload {file} started for {sid} size {bytes}"),
        Step("storage.Node", "INFO", "Stored chunk {chunk} of {file} on {node} for {sid}", repeat=(2, 5)),
        Step("storage.Gateway", "INFO", "Checksum verified for {file} in {sid}"),
        Step("storage.Gateway", "INFO", "Upload {file} finished for {sid} in {ms} ms"),
    )),
    "job": (0.15, (
        Step("sched.Queue", "INFO", "Job {sid} queued with priority {prio}"),
        Step("sched.Worker", "INFO", "Job {sid} started on {node}"),
        Step("sched.Worker", "INFO", "Job {sid} processed {rows} records in {ms} ms"),
        Step("sched.Queue", "INFO", "Job {sid} finished with exit code {code}"),
    )),
}
ERRORS: tuple[Step, ...] = (
    Step("net.Socket", "ERROR", "Connection to {node} reset while serving {sid}"),
    Step("api.Handler", "ERROR", "Unhandled exception in handler for {sid} at frame {chunk}"),
    Step("storage.Node", "WARN", "Disk quota exceeded on {node} while writing for {sid}"),
    Step("auth.Service", "WARN", "Token for user {user} expired during {sid}"),
)
NOISE: tuple[Step, ...] = (
    Step("monitor.Agent", "INFO", "Heartbeat from {node} load {load}"),
    Step("gc.Runtime", "INFO", "Garbage collection freed {bytes} bytes in {ms} ms"),
)
TABLES = ("users", "orders", "items", "events", "sessions")


def event_table() -> dict[str, str]:
    """Ground-truth event id of every template (normal, error and noise), stable across runs."""
    steps = [s for _, (_, flow) in sorted(WORKFLOWS.items()) for s in flow] + list(ERRORS) + list(NOISE)
    out: dict[str, str] = {}
    for step in steps:
        out.setdefault(step.template, f"E{len(out) + 1}")
    return out


def _values(rng: np.random.Generator, sid: str, ms_scale: float = 1.0) -> dict[str, object]:
    """Typed parameter values of one line (every slot any template may use)."""
    return {
        "sid": sid,
        "ip": f"10.{rng.integers(0, 4)}.{rng.integers(0, 256)}.{rng.integers(1, 255)}",
        "port": int(rng.integers(1024, 65536)),
        "user": f"user{int(rng.integers(0, 500)):03d}",
        "ms": max(1, round(float(rng.lognormal(3.0, 0.4)) * ms_scale)),
        "table": TABLES[int(rng.integers(0, len(TABLES)))],
        "rows": int(rng.integers(1, 500)),
        "bytes": int(rng.integers(1_000, 1_000_000)),
        "key": f"{int(rng.integers(0, 2**32)):08x}",
        "status": 200,
        "file": f"/data/f{int(rng.integers(0, 10_000)):05d}.bin",
        "chunk": int(rng.integers(0, 64)),
        "node": f"node-{int(rng.integers(1, 33)):02d}",
        "prio": int(rng.integers(1, 6)),
        "code": 0,
        "load": f"{float(rng.uniform(0.05, 0.95)):.2f}",
    }


@dataclass
class Line:
    step: Step
    values: dict[str, object]
    anomalous: bool = False


def normal_lines(flow: tuple[Step, ...], sid: str, rng: np.random.Generator) -> list[Line]:
    out: list[Line] = []
    for step in flow:
        if step.optional and rng.random() < step.optional:
            continue
        for _ in range(int(rng.integers(step.repeat[0], step.repeat[1] + 1))):
            out.append(Line(step, _values(rng, sid)))
    return out


def inject(lines: list[Line], kind: str, severity: int, sid: str, rng: np.random.Generator) -> list[Line]:
    """The session's lines with one anomaly of ``kind`` (the affected lines marked anomalous)."""
    lines = list(lines)
    if kind == "unseen_template":
        for _ in range(severity):
            step = ERRORS[int(rng.integers(0, len(ERRORS)))]
            at = int(rng.integers(1, len(lines) + 1))
            lines.insert(at, Line(step, _values(rng, sid), anomalous=True))
    elif kind == "broken_order":
        pairs = [i for i in range(len(lines) - 1) if lines[i].step.template != lines[i + 1].step.template]
        i = pairs[int(rng.integers(0, len(pairs)))]
        j = min(i + severity, len(lines) - 1)  # farther apart = stronger
        if lines[j].step.template == lines[i].step.template:
            j = i + 1
        lines[i], lines[j] = lines[j], lines[i]
        lines[i].anomalous = lines[j].anomalous = True
    elif kind == "burst":
        at = int(rng.integers(0, len(lines)))
        extra = [Line(lines[at].step, _values(rng, sid), anomalous=True) for _ in range(3 * severity + 2)]
        lines[at + 1:at + 1] = extra
    elif kind == "missing_step":
        # never the first line (the session would just look shorter) nor all but one
        n_drop = min(1 if severity < 3 else 2, len(lines) - 2)
        at = int(rng.integers(1, len(lines) - n_drop + 1))
        del lines[at:at + n_drop]
        lines[min(at, len(lines) - 1)].anomalous = True
    elif kind == "odd_parameter":
        timed = [i for i, ln in enumerate(lines) if "{ms}" in ln.step.template]
        i = timed[int(rng.integers(0, len(timed)))]
        scale = 2 * 10 ** severity
        values = dict(lines[i].values)
        values["ms"] = int(values["ms"]) * scale  # type: ignore[call-overload]
        lines[i] = Line(lines[i].step, values, anomalous=True)
    else:  # guarded by the Params model
        raise ValueError(kind)
    return lines


def generate(p: SyntheticParams, folder: Path) -> None:
    """Write the four files of one setting into ``folder`` (which must exist and be empty)."""
    rng = np.random.default_rng([p.seed, GENERATOR_VERSION])
    names = list(WORKFLOWS)
    weights = np.array([WORKFLOWS[n][0] for n in names])
    n_anomalous = max(1, round(p.anomaly_fraction * p.n_sessions))
    anomalous = set(rng.choice(p.n_sessions, size=n_anomalous, replace=False).tolist())
    events = event_table()
    stamped: list[tuple[float, int, Line, int]] = []  # (time, order, line, pid)
    kinds: list[tuple[str, str, int]] = []
    labels: list[tuple[str, str]] = []
    order = 0
    for s in range(p.n_sessions):
        sid = f"sess_{s:06d}"
        flow = WORKFLOWS[names[int(rng.choice(len(names), p=weights / weights.sum()))]][1]
        lines = normal_lines(flow, sid, rng)
        if s in anomalous:
            kind = p.anomaly_types[len(kinds) % len(p.anomaly_types)]
            level = int(rng.integers(1, p.severity + 1)) if p.mixed_severity else p.severity
            if kind == "odd_parameter" and not any("{ms}" in ln.step.template for ln in lines):
                kind = "burst"  # this workflow has no latency to disturb
            lines = inject(lines, kind, level, sid, rng)
            kinds.append((sid, kind, level))
        labels.append((sid, "Anomaly" if s in anomalous else "Normal"))
        t = START + s * 2.0 + float(rng.uniform(0, 2.0))
        pid = int(rng.integers(100, 999))
        for line in lines:
            stamped.append((t, order, line, pid))
            order += 1
            t += float(rng.exponential(1.5))
    n_noise = round(p.noise_lines * len(stamped))
    span = max(t for t, *_ in stamped) - START
    for _ in range(n_noise):
        step = NOISE[int(rng.integers(0, len(NOISE)))]
        stamped.append((START + float(rng.uniform(0, span)), order, Line(step, _values(rng, "")), int(rng.integers(100, 999))))
        order += 1
    stamped.sort(key=lambda x: (x[0], x[1]))
    with (folder / LOG_NAME).open("w", encoding="utf-8", newline="\n") as log, \
            (folder / f"{LOG_NAME}_structured.csv").open("w", encoding="utf-8", newline="") as gt:
        writer = csv.writer(gt)
        writer.writerow(["LineId", "Label", "Date", "Time", "Pid", "Level", "Component", "Content", "EventId", "EventTemplate"])
        for i, (t, _, line, pid) in enumerate(stamped, start=1):
            when = datetime.fromtimestamp(t, tz=UTC)
            date, clock = when.strftime("%y%m%d"), when.strftime("%H%M%S")
            content = line.step.template.format(**line.values)
            log.write(f"{date} {clock} {pid} {line.step.level} {line.step.component}: {content}\n")
            writer.writerow([i, int(line.anomalous), date, clock, pid, line.step.level, line.step.component, content,
                             events[line.step.template], line.step.loghub_template()])
    with (folder / "anomaly_label.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([("BlockId", "Label"), *labels])
    with (folder / "sessions.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([("SessionId", "Kind", "Severity"), *kinds])


def cache_root() -> Path:
    """``$OMNIAD_CACHE_DIR/logs-synthetic``, else the user cache, else the temp folder."""
    env = os.environ.get("OMNIAD_CACHE_DIR")
    if env:
        return Path(env).expanduser() / "logs-synthetic"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    candidate = Path(base) / "omniad" / "logs-synthetic"
    try:
        candidate.mkdir(parents=True, exist_ok=True)
        return candidate
    except OSError:
        return Path(tempfile.gettempdir()) / "omniad-logs-synthetic"


def materialize(p: SyntheticParams, where: str) -> Path:
    """The folder holding this setting's files, generated once (atomic rename, so it is idempotent)."""
    key = json.dumps({**p.generator_key(), "version": GENERATOR_VERSION}, sort_keys=True)
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    root = Path(p.root).expanduser() if p.root is not None else cache_root()
    folder = root / f"synthetic-{digest}"
    if (folder / "settings.json").is_file():
        return folder
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=root))
    except OSError as exc:
        raise DataError(f"{where}: cannot write the generated logs under {root} ({exc}); set 'root' to a writable folder") from None
    try:
        generate(p, tmp)
        (tmp / "settings.json").write_text(key + "\n", encoding="utf-8")
        try:
            os.replace(tmp, folder)
        except OSError:  # another process finished first (the folder exists and is complete)
            if not (folder / "settings.json").is_file():
                shutil.rmtree(folder, ignore_errors=True)
                os.replace(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def read_kinds(path: Path) -> dict[str, tuple[str, int]]:
    with path.open(newline="", encoding="utf-8") as f:
        return {r["SessionId"]: (r["Kind"], int(r["Severity"])) for r in csv.DictReader(f)}


class Synthetic(LogDataset):
    """One subset: generated sessions, read back like HDFS; train = seeded share of normal sessions."""

    Params = SyntheticParams

    def iter_subsets(self) -> Iterator[Subset]:
        from omniad_logs.datasets.hdfs import load_grouped
        from omniad_logs.datasets.reading import read_line_labels

        p = self.params
        folder = materialize(p, self.where)
        log = folder / LOG_NAME
        kinds = read_kinds(folder / "sessions.csv")
        line_labels = read_line_labels(folder / f"{LOG_NAME}_structured.csv", self.where)
        yield load_grouped(
            log,
            self.where,
            name="synthetic",
            log_format=LOG_FORMAT,
            labels_file=folder / "anomaly_label.csv",
            session_pattern=SESSION_PATTERN,
            line_labels=line_labels,
            session_kinds=kinds,
            events=p.events,
            structured=None,
            train_fraction=p.train_fraction,
            seed=p.seed,
            min_length=1,
            meta={"root": str(folder), "generator": p.generator_key()},
        )
