"""The contract between ``omniad watch`` and a modality: lines in, alerts out, state that survives a restart.

A dataset that can be watched returns a ``Streamer`` from ``Dataset.watcher``: the log loaders
parse, group and score lines; the series loader reads rows. The core owns everything else:
following the source, writing alerts, checkpoints, the status line and stopping.
"""

from __future__ import annotations

from typing import Any, Protocol

from omniad.watch.follow import Line

#: one alert (or, with ``--every``, one score): a JSON object, see ``docs/watch.md``
Alert = dict[str, Any]


class Streamer(Protocol):
    """Scores a stream. Every method returns the alerts it produced, in order.

    A record is an alert when its ``alert`` is true; with ``every`` set (``--every``) the
    streamer also returns the scores that stayed below the threshold, with ``alert`` false.
    """

    every: bool

    def feed(self, lines: list[Line]) -> list[Alert]:
        """Take the next lines (in order of arrival)."""
        ...

    def tick(self, now: float) -> list[Alert]:
        """Called between reads (``now``: ``time.time()``): close what timed out."""
        ...

    def close(self) -> list[Alert]:
        """The stream stops: score what is still open."""
        ...

    def state(self) -> dict[str, Any]:
        """Everything needed to go on after a restart, as JSON (bounded by the streamer's caps)."""
        ...

    def restore(self, state: dict[str, Any]) -> None:
        """Go on from ``state()`` of an earlier run of the same model."""
        ...

    def status(self) -> dict[str, int | float]:
        """Numbers for the status line and the final summary (open sessions, templates, evictions, ...)."""
        ...
