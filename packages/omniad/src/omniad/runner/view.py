"""What a user sees while a grid runs: a rich progress bar on a terminal, lines in CI logs.

The bar's last column names the job in flight and how far it got, from the progress events
of the runner (subset i) and of the detector (``Detector.report_progress``: epochs 3/50).
Without a terminal (CI, a pipe) each finished job is one line, and a job in flight is
reported at most every ``PLAIN_EVERY_S`` seconds, so an hour-long fit is not a silent hour
and a log does not fill with one line per epoch.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from omniad import progress
from omniad.progress import ProgressEvent
from omniad.runner.jobs import Job

#: seconds between two lines about jobs in flight when there is no terminal
PLAIN_EVERY_S = 30.0
#: seconds between two redraws of the bar's "current" column
BAR_EVERY_S = 0.2


def job_label(job: Job) -> str:
    return f"{job.detector.label} on {job.dataset.label} (seed {job.seed})"


#: nested steps of a detector shown at once (epochs, batches, ...); deeper ones are dropped
MAX_LEVELS = 3


def _step(event: ProgressEvent) -> str:
    return f"{event.what} {event.done}" + (f"/{event.total}" if event.total else "")


@dataclass
class _InFlight:
    label: str
    subset: ProgressEvent | None = None
    inner: list[ProgressEvent] = field(default_factory=list)  # outermost first

    def step(self, event: ProgressEvent) -> None:
        """A step of the detector: the same ``what`` again replaces itself and every level inside it."""
        whats = [e.what for e in self.inner]
        self.inner = self.inner[: whats.index(event.what)] if event.what in whats else self.inner
        self.inner = [*self.inner, event][:MAX_LEVELS]

    def describe(self) -> str:
        steps = []
        if self.inner:
            steps.append(" of ".join(_step(e) for e in reversed(self.inner)))
        if self.subset is not None:
            of = f"/{self.subset.total}" if self.subset.total else ""
            steps.append(f"subset {self.subset.done}{of}")
        return self.label + (": " + ", ".join(steps) if steps else "")


class ProgressView:
    """The bar (terminal), the lines (no terminal), or nothing (``enabled=False``)."""

    def __init__(self, enabled: bool, total: int, say: Callable[[str], None]) -> None:
        self.enabled = enabled
        self.say = say
        self.total = total
        self.done = 0
        self.flight: dict[str, _InFlight] = {}
        self.bar: Any = None
        self.plain = enabled and (not sys.stderr.isatty() or bool(os.environ.get("CI")))
        self._drawn = 0.0
        self._said = time.monotonic()
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[current]}"),
                transient=False,
                disable=not sys.stderr.isatty(),
            )
            self.bar.start()
            self.task = self.bar.add_task("jobs", total=total, current="")

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()

    def drop(self) -> None:
        """One job fewer to run here (another runner has it)."""
        self.total -= 1
        if self.bar is not None:
            self.bar.update(self.task, total=self.total)

    def started(self, job: Job) -> None:
        self.flight[job.key] = _InFlight(job_label(job))
        self._draw(job.key, force=True)

    def progressed(self, job: Job, event: ProgressEvent) -> None:
        state = self.flight.get(job.key)
        if state is None:
            return
        if event.where == progress.JOB:
            state.subset, state.inner = event, []  # a new subset's fit starts from scratch
        else:
            state.step(event)
        self._draw(job.key)
        if self.plain and time.monotonic() - self._said >= PLAIN_EVERY_S:
            self._said = time.monotonic()
            running = "; ".join(s.describe() for s in self.flight.values())
            self.say(f"[{self.done}/{self.total}] running {running}")

    def finished(self, record: dict[str, Any]) -> None:
        self.flight.pop(record.get("key", ""), None)
        self.done += 1
        if self.bar is not None:
            self.bar.advance(self.task)
            latest = next(reversed(self.flight), None)
            self.bar.update(self.task, current=self.flight[latest].describe() if latest else "")
        if self.plain:
            self._said = time.monotonic()
            self.say(
                f"[{self.done}/{self.total}] {record['detector']['label']} on {record['dataset']['label']}: "
                f"{record.get('status')}" + (f" ({record['error']})" if record.get("error") else "")
            )

    def _draw(self, key: str, force: bool = False) -> None:
        if self.bar is None:
            return
        now = time.monotonic()
        if not force and now - self._drawn < BAR_EVERY_S:
            return
        self._drawn = now
        text = self.flight[key].describe()
        if len(self.flight) > 1:
            text += f" (+{len(self.flight) - 1} more running)"
        self.bar.update(self.task, current=text)
