"""``omniad watch``: follow a source, hand its lines to the model's streamer, write alerts, checkpoint, report.

The loop is single-threaded (standard input has a reader thread): read what is there, feed it,
write the alerts, and every ``checkpoint_every`` seconds make alerts durable and save the
read position with the streamer's state (``checkpoint``). Ctrl-C, SIGTERM, ``max_lines``,
``until`` and the end of standard input all stop it the same way: the open sessions are
scored, the last alerts written, a final checkpoint saved, and a summary printed.
"""

from __future__ import annotations

import contextlib
import re
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from omniad.errors import ConfigError, DataError
from omniad.watch import checkpoint as ckpt
from omniad.watch.follow import Follower, follower_counts, open_follower
from omniad.watch.sink import AlertSink
from omniad.watch.stream import Alert, Streamer

Say = Callable[[str], None]
#: lines handed to the streamer at once (bounds the work between two looks at the clock)
BATCH = 2048
#: seconds slept when the source has nothing new
IDLE_SLEEP = 0.02
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_until(text: str | None, now: float | None = None) -> float | None:
    """``--until``: a duration (``90s``, ``15m``, ``2h``) from now, or an ISO date-time; as a ``time.time()`` value."""
    if text is None:
        return None
    now = time.time() if now is None else now
    m = _DURATION.match(text)
    if m:
        return now + float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2) or "s"]
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise ConfigError(f"--until {text!r}: give a duration like 90s, 15m, 2h, or a date-time like "
                          "2026-12-05T18:00") from None


@dataclass
class WatchSummary:
    """What a watch did: lines read, alerts written, and the counts of everything unusual."""

    lines: int = 0
    alerts: int = 0
    records: int = 0
    stopped_by: str = ""
    #: seconds from the first read to the stop (model loading not included)
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    status: dict[str, int | float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def open_streamer(model: Any, options: dict[str, Any], say: Say) -> Streamer:
    """The model's loader, continued with the state it saved at fit time, asked for a streamer."""
    from omniad.plugins import get_registry
    from omniad.sources import ResolvedSource, open_dataset

    source = model.source_
    if not source:
        raise ConfigError(f"{model.where}: the model holds no source (it was not fitted with `omniad fit` / "
                          "omniad.fit); refit it with `omniad fit` on a file like the ones to watch")
    registry = get_registry()
    try:
        entry = registry.get("dataset", str(source["loader"]))
        params = entry.validate_params(dict(source["params"])).model_dump(mode="json")
    except (KeyError, TypeError) as exc:
        raise DataError(f"{model.where}: the model's saved source is not usable ({exc}); refit the model") from None
    dataset = open_dataset(ResolvedSource(entry, params, ""), source.get("state"))
    streamer = dataset.watcher(model, options, say)
    return streamer


def _status_line(lines: int, rate: float, alerts: int, status: dict[str, int | float], counts: dict[str, int]) -> str:
    parts = [f"{lines:,} lines ({rate:,.0f}/s)", f"alerts {alerts:,}"]
    parts += [f"{k.replace('_', ' ')} {v:,}" if isinstance(v, int) else f"{k.replace('_', ' ')} {v:.4g}"
              for k, v in status.items()]
    bad = [f"{k.replace('_', ' ')} {v:,}" for k, v in sorted(counts.items()) if v]
    if bad:
        parts.append("input: " + ", ".join(bad))
    return "watch: " + " | ".join(parts)


def watch(
    model: str | Path | Any,
    source: str,
    *,
    alerts: str | Path | None = None,
    checkpoint: str | Path | None = None,
    every: bool = False,
    start: str = "end",
    pattern: str = "*",
    max_lines: int | None = None,
    until: str | None = None,
    options: dict[str, Any] | None = None,
    status_every: float = 5.0,
    checkpoint_every: float = 5.0,
    device: str = "auto",
    say: Say = _stderr,
    follower: Follower | None = None,
) -> WatchSummary:
    """Follow ``source`` ("-" for standard input, a file, or a folder) and score it live with a saved model.

    Alerts are JSON lines on standard output, or appended to ``alerts``; with ``checkpoint``
    (default ``<alerts>.checkpoint`` when ``alerts`` is a file) a restart resumes where it
    stopped without losing or repeating alerts. ``every`` also writes each score, alert or not.
    """
    from omniad.detector import Detector

    if max_lines is not None and max_lines < 1:
        raise ConfigError(f"--max-lines {max_lines}: give a positive number of lines")
    if status_every <= 0 or checkpoint_every <= 0:
        raise ConfigError("status and checkpoint intervals must be positive seconds")
    deadline = parse_until(until)
    det = model if isinstance(model, Detector) else Detector.load(model, device=device)
    model_dir = None if isinstance(model, Detector) else Path(model)
    alerts_path = Path(alerts) if alerts is not None else None
    ckpt_path = Path(checkpoint) if checkpoint is not None else (
        alerts_path.with_name(alerts_path.name + ".checkpoint") if alerts_path is not None else None)
    if ckpt_path is not None and alerts_path is None:
        raise ConfigError("--checkpoint needs --alerts FILE: alerts on standard output cannot be cut back after a "
                          "crash, so a resume could repeat them")
    if ckpt_path is not None and model_dir is None:
        raise ConfigError("checkpoints need a saved model folder (the checkpoint names the model it belongs to)")
    fingerprint = ckpt.model_fingerprint(model_dir) if model_dir is not None else ""
    streamer = open_streamer(det, dict(options or {}), say)
    streamer.every = every
    follow = follower if follower is not None else open_follower(source, start=start, pattern=pattern)
    summary = WatchSummary()
    sink = AlertSink(alerts_path)
    saved = ckpt.load(ckpt_path, fingerprint) if ckpt_path is not None else None
    if saved is not None:
        streamer.restore(saved["state"])
        follow.restore(saved.get("position"))
        note = sink.resume(saved["alerts_bytes"])
        if note:
            summary.notes.append(note)
            say(f"note: {note}")
        summary.lines, summary.alerts = saved["lines"], saved["alerts"]
        say(f"resuming from checkpoint {ckpt_path}: {summary.lines:,} lines and {summary.alerts:,} alerts so far")
    say(f"watching {follow.describe()} with {det.component_id or type(det).__name__}"
        + (f"; alerts to {alerts_path}" if alerts_path else "; alerts on standard output"))

    stop: list[str] = []

    def on_signal(signum: int, frame: Any) -> None:
        stop.append(signal.Signals(signum).name)

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread (a library caller): Ctrl-C reaches it as usual
            previous[sig] = signal.signal(sig, on_signal)

    def emit(records: list[Alert]) -> None:
        if not every:
            records = [r for r in records if r.get("alert", True)]
        sink.write(records)
        summary.records += len(records)
        summary.alerts += sum(1 for r in records if r.get("alert", True))

    def save_checkpoint() -> None:
        if ckpt_path is None:
            sink.sync()
            return
        size = sink.sync()
        ckpt.save(ckpt_path, {"model": fingerprint, "source": source, "position": follow.position(),
                              "state": streamer.state(), "alerts_bytes": size, "lines": summary.lines,
                              "alerts": summary.alerts, "saved_at": time.time()})

    started = last_ckpt = last_status = time.monotonic()
    lines_at_status = summary.lines
    try:
        while not stop:
            limit = BATCH if max_lines is None else min(BATCH, max_lines - summary.lines)
            lines = follow.poll(limit) if limit > 0 else []
            if lines:
                emit(streamer.feed(lines))
                summary.lines += len(lines)
            now = time.time()
            emit(streamer.tick(now))
            mono = time.monotonic()
            if mono - last_ckpt >= checkpoint_every:
                save_checkpoint()
                last_ckpt = mono
            if mono - last_status >= status_every:
                rate = (summary.lines - lines_at_status) / (mono - last_status)
                say(_status_line(summary.lines, rate, summary.alerts, streamer.status(),
                                 dict(follower_counts(follow))))
                last_status, lines_at_status = mono, summary.lines
            if max_lines is not None and summary.lines >= max_lines:
                stop.append("max-lines")
            elif deadline is not None and now >= deadline:
                stop.append("until")
            elif not lines and follow.exhausted:
                stop.append("end of input")
            elif not lines:
                time.sleep(IDLE_SLEEP)
    except KeyboardInterrupt:
        stop.append("SIGINT")
    except BaseException:
        sink.sync()  # what was alerted stays; the last checkpoint still matches it
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    summary.stopped_by = stop[0] if stop else "error"
    emit(streamer.close())
    save_checkpoint()
    follow.close()
    sink.close()
    summary.counts = {k: int(v) for k, v in follower_counts(follow).items() if v}
    summary.status = streamer.status()
    elapsed = max(time.monotonic() - started, 1e-9)
    summary.seconds = elapsed
    say(f"stopped ({summary.stopped_by}): " + _status_line(summary.lines, summary.lines / elapsed, summary.alerts,
                                                         summary.status, summary.counts).removeprefix("watch: "))
    return summary
