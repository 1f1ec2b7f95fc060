"""What a log sample is: one session or window of lines, with its parsed event per line.

Every detector scores a ``LogSession`` and every localization target / ``Scores.local`` array
has one entry per line (shape ``(len(session),)``), so a detection always points back at the
lines that caused it. Raw text is optional (pre-parsed benchmarks such as the HDFS event-id
sessions have none); event ids are always there, because every detector works on them.

Sessions of one dataset share an ``EventVocabulary``: the template text of each event id and,
where the data provides them, semantic vectors (``event2semantic_vec.json``). Sharing one
object keeps memory flat however many sessions there are, and lets a detector fitted on one
split look up events that only appear in another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from omniad.errors import DataError


@dataclass
class EventVocabulary:
    """Event id -> template text (and optional semantic vector), shared by a dataset's sessions."""

    templates: dict[str, str] = field(default_factory=dict)
    vectors: dict[str, np.ndarray] | None = None

    def template(self, event: str) -> str:
        return self.templates.get(event, event)

    def vector(self, event: str) -> np.ndarray | None:
        return None if self.vectors is None else self.vectors.get(event)


@dataclass(frozen=True)
class LogSession:
    """One sample: the events (and optionally raw lines) of a session or window, in order.

    ``events[i]`` is the event id of line ``i`` (a template id from the parser, or the
    benchmark's own id such as ``"E5"``). ``lines[i]`` is its message content when the raw
    text is known; ``parameters[i]`` the values the parser masked out of it (GLAD and
    LogAnomaly's quantitative view read them); ``timestamps[i]`` seconds since the epoch.
    """

    id: str
    events: tuple[str, ...]
    lines: tuple[str, ...] | None = None
    parameters: tuple[tuple[str, ...], ...] | None = None
    timestamps: np.ndarray | None = None
    vocabulary: EventVocabulary | None = field(default=None, compare=False, repr=False)
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.events)
        for name in ("lines", "parameters", "timestamps"):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise DataError(
                    f"log session {self.id!r}: {n} events but {len(value)} {name}; "
                    f"give exactly one entry in {name} per line"
                )

    def __len__(self) -> int:
        return len(self.events)

    def template(self, i: int) -> str:
        """Template text of line ``i`` (the event id itself where no vocabulary is known)."""
        event = self.events[i]
        return self.vocabulary.template(event) if self.vocabulary is not None else event


def as_sessions(samples: Sequence[Any], where: str) -> list[LogSession]:
    """Accept ``LogSession`` objects or plain sequences of event ids; reject anything else clearly.

    Plain sequences (``["E5", "E22", ...]``) let users and tests call a detector without
    building sessions by hand; they become sessions named ``#i`` without raw text.
    """
    out: list[LogSession] = []
    for i, sample in enumerate(samples):
        if isinstance(sample, LogSession):
            out.append(sample)
        elif isinstance(sample, (str, bytes)) or not isinstance(sample, Sequence):
            raise DataError(
                f"{where}: sample #{i} is a {type(sample).__name__}; log detectors take "
                "omniad_logs.LogSession objects or sequences of event ids (one per line)"
            )
        else:
            out.append(LogSession(id=f"#{i}", events=tuple(str(e) for e in sample)))
    return out
