"""Progress inside a job: detectors say how far a long fit has got; whoever listens shows it.

A detector calls ``Detector.report_progress(done, total, what)`` (e.g. after each epoch and
each batch), or ``report(where, done, total, what)`` from code that has no detector at hand,
or wraps a loop in ``steps``. Without a listener that costs a function call; the runner
installs one while a job runs (inline: the display itself; a process worker: its pipe to the
parent), so the CLI's progress display can show "batches 120/400 of epochs 3/50" instead of
a silent hour. Steps nest: a ``what`` already shown replaces itself and what came inside it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class ProgressEvent:
    """One step of a long operation: ``done`` of ``total`` (None: unknown) ``what`` by ``where``."""

    where: str
    done: int
    total: int | None
    what: str

    def describe(self) -> str:
        of = f"/{self.total}" if self.total else ""
        return f"{self.where}: {self.what} {self.done}{of}"


Listener = Callable[[ProgressEvent], None]
_local = threading.local()


def report(where: str, done: int, total: int | None = None, what: str = "epochs") -> None:
    """Pass one progress event to the listener of this thread, if any; never raises."""
    listener: Listener | None = getattr(_local, "listener", None)
    if listener is None:
        return
    with contextlib.suppress(Exception):  # a display problem must never break a fit
        listener(ProgressEvent(where, int(done), None if total is None else int(total), what))


def steps(items: Iterable[T], what: str, *, where: str = "", total: int | None = None) -> Iterator[T]:
    """``items``, reporting ``what`` i/total after the i-th item's work is done (total: ``len(items)``)."""
    if total is None:
        total = len(items) if hasattr(items, "__len__") else None  # type: ignore[arg-type]
    for done, item in enumerate(items, 1):
        yield item
        report(where, done, total, what)


@contextlib.contextmanager
def listening(listener: Listener | None) -> Iterator[None]:
    """Send the progress events of this thread to ``listener`` while the block runs."""
    previous = getattr(_local, "listener", None)
    _local.listener = listener
    try:
        yield
    finally:
        _local.listener = previous


#: ``where`` of the runner's own events (subset i of n of the job in flight)
JOB = "job"


def throttled(listener: Listener, every_s: float) -> Listener:
    """``listener``, passed at most one event per ``every_s`` seconds (per ``what``), always the last step.

    Detectors may report every batch; a display, or a pipe to the parent process, needs a
    few events a second at most.
    """
    last: dict[str, float] = {}

    def forward(event: ProgressEvent) -> None:
        now = time.monotonic()
        final = event.total is not None and event.done >= event.total
        if final or now - last.get(event.what, -every_s) >= every_s:
            last[event.what] = now
            listener(event)

    return forward
