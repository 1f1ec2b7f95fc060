"""Open sessions of a live log: lines grouped by session id or window, closed by the caps of ``LogWatchParams``."""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from omniad.errors import DataError


@dataclass
class OpenSession:
    """The lines of one session so far (parallel lists, one entry per line)."""

    key: str
    events: list[str] = field(default_factory=list)
    contents: list[str] = field(default_factory=list)
    parameters: list[tuple[str, ...]] = field(default_factory=list)
    timestamps: list[float] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    last_clock: int = 0
    last_seen: float = 0.0

    def __len__(self) -> int:
        return len(self.events)

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "events": self.events, "contents": self.contents,
                "parameters": [list(p) for p in self.parameters],
                "timestamps": [None if math.isnan(t) else t for t in self.timestamps],
                "files": self.files, "numbers": self.numbers, "last_clock": self.last_clock,
                "last_seen": self.last_seen}

    @classmethod
    def from_json(cls, data: Any, where: str) -> OpenSession:
        try:
            s = cls(str(data["key"]), [str(e) for e in data["events"]], [str(c) for c in data["contents"]],
                    [tuple(str(v) for v in p) for p in data["parameters"]],
                    [math.nan if t is None else float(t) for t in data["timestamps"]],
                    [str(f) for f in data["files"]], [int(n) for n in data["numbers"]],
                    int(data["last_clock"]), float(data["last_seen"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{where}: an open session is not usable ({exc}); delete the checkpoint") from None
        n = len(s.events)
        if any(len(x) != n for x in (s.contents, s.parameters, s.timestamps, s.files, s.numbers)):
            raise DataError(f"{where}: open session {s.key!r} has lists of different lengths; delete the checkpoint")
        return s


class OpenSessions:
    """Sessions by key, least recently active first, with the line count of all of them."""

    def __init__(self) -> None:
        self.by_key: OrderedDict[str, OpenSession] = OrderedDict()
        self.lines = 0

    def __len__(self) -> int:
        return len(self.by_key)

    def get(self, key: str, clock: int, now: float) -> OpenSession:
        s = self.by_key.get(key)
        if s is None:
            s = self.by_key[key] = OpenSession(key)
        else:
            self.by_key.move_to_end(key)
        s.last_clock, s.last_seen = clock, now
        return s

    def pop(self, key: str) -> OpenSession:
        s = self.by_key.pop(key)
        self.lines -= len(s)
        return s

    def oldest(self) -> OpenSession | None:
        return next(iter(self.by_key.values()), None)

    def to_json(self) -> list[dict[str, Any]]:
        return [s.to_json() for s in self.by_key.values()]

    def restore(self, items: Any, where: str) -> None:
        if not isinstance(items, list):
            raise DataError(f"{where}: 'sessions' is not a list; delete the checkpoint")
        self.by_key.clear()
        self.lines = 0
        for item in items:
            s = OpenSession.from_json(item, where)
            self.by_key[s.key] = s
            self.lines += len(s)
