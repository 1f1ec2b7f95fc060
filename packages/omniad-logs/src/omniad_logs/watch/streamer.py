"""Scoring a live log: parse each line with the model's parser, group it into sessions, score, decide.

- **parsing**: the model's ``TemplateMiner`` (its fit-time state) learns on; a template the
  model never saw is alerted once (``new_template``) and counted. Templates are capped
  (``max_templates``): the least recently seen one learned live is evicted, and counted.
- **sessions**: the model's rule (an id in the line, or windows of N lines / T seconds of one
  file); a session closes when its window ends, when it reaches ``max_session_lines``, when no
  line joined it for ``idle_lines`` lines or ``idle_seconds``, when the open sessions or their
  lines pass their caps (least recently active first), or when the watch stops.
- **scoring**: next-event detectors (DeepLog, LogAnomaly, transformer) score every line as it
  arrives against the model's element threshold (``score_next``), and END when a session
  closes; every other detector scores a session when it closes, against the sample threshold,
  and names the lines that weigh most.
"""

from __future__ import annotations

import math
import time
from collections import Counter, OrderedDict
from datetime import UTC, datetime
from typing import Any

import numpy as np

from omniad.errors import ConfigError, DataError
from omniad.params import validate_params
from omniad.watch.follow import Line
from omniad_logs.datasets.reading import TIME_FIELDS, line_timestamp
from omniad_logs.session import EventVocabulary, LogSession
from omniad_logs.watch.params import LogWatchParams
from omniad_logs.watch.sessions import OpenSession, OpenSessions

STATE_VERSION = 1
#: lines named in a session alert
TOP_LINES = 3
#: the fields of ``_stamp``'s cache key; they must be all that ``line_timestamp`` reads
_STAMP_KEY = ("Timestamp", "Time", "Date", "Month", "Day")
if set(_STAMP_KEY) != set(TIME_FIELDS):
    raise ImportError(f"omniad_logs.watch.streamer: _stamp's key {_STAMP_KEY} must be TIME_FIELDS {TIME_FIELDS}")
#: distinct time texts remembered (cleared when full)
STAMP_CACHE = 4096


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class LogStreamer:
    """The ``Streamer`` of log models (see the module docstring)."""

    def __init__(self, dataset: Any, detector: Any, options: dict[str, Any], say: Any) -> None:
        from omniad_logs.datasets.headers import Header
        from omniad_logs.datasets.own import own_state

        self.p: LogWatchParams = validate_params(LogWatchParams, options, "omniad watch --set")
        self.det = detector
        self.say = say
        st = own_state(dataset)
        if st.miner is None:
            raise ConfigError(f"{detector.where}: the model holds no log parser (it was fitted on pre-parsed events); "
                              "watch needs a model fitted on raw log lines, e.g. `omniad fit logs.pca server.log`")
        self.miner = st.miner
        self.known: frozenset[str] = st.known if st.known is not None else frozenset(self.miner.templates())
        if self.p.max_templates <= len(self.known):
            raise ConfigError(f"--set max_templates={self.p.max_templates} must exceed the {len(self.known)} "
                              "templates the model knows (they are never evicted)")
        header = st.header
        self.split = None if header in (None, "none") else Header(header, header).parser(only=TIME_FIELDS)
        uses = getattr(detector, "uses_parameters", None)
        self.want_parameters = bool(uses()) if callable(uses) else True
        rule = st.sessions or {"by": "window", "window": "fixed", "unit": "lines", "size": 20, "step": None}
        self.rule = rule
        self.by = rule.get("by")
        if self.by == "column":
            raise ConfigError(f"{detector.where}: the model's sessions come from a table column; watch reads raw "
                              "log lines (refit on a raw log with session_pattern or windows)")
        self.session_rx = None
        if self.by == "id":
            from omniad_logs.datasets.hdfs import session_regex

            self.session_rx = session_regex(str(rule["pattern"]), "omniad watch")
            self.whole_ids = getattr(self.session_rx, "groups", 1) == 0
        else:
            self.unit = rule.get("unit", "lines")
            self.size = float(rule.get("size") or 20)
            if rule.get("step"):
                say(f"note: the model's windows slide (step {rule['step']:g}); watched as tumbling windows of "
                    f"{self.size:g} {self.unit}")
        self.min_length = int(getattr(dataset.params, "min_session_length", 1) or 1)
        self.next_event = hasattr(detector, "score_next")
        self.window = int(getattr(detector.params, "window", 0) or 0) if self.next_event else 0
        self.end_marker = bool(getattr(detector.params, "end_marker", False)) if self.next_event else False
        t = detector.thresholds_
        level = "element" if self.next_event else "sample"
        if level in t:
            self.threshold = float(t[level].value)
        elif self.next_event and getattr(detector, "threshold_", None) is not None:
            self.threshold = float(detector.threshold_)
            say(f"note: the model has no element threshold; using the detector's own ({self.threshold:g})")
        else:
            raise ConfigError(f"{detector.where}: the model has no {level} threshold to decide with; fit it with "
                              "`omniad fit` (which chooses thresholds) and watch that model")
        self.level = level
        self.vocab = EventVocabulary(dict(self.miner.templates()))
        self.sessions = OpenSessions()
        self.recent: OrderedDict[str, None] = OrderedDict((e, None) for e in self.miner.templates()
                                                          if e not in self.known)
        self.alerted_new: set[str] = set()
        self.clock = 0
        self.counts: Counter[str] = Counter()
        self.every = False  # set by the watch loop (--every): scores below the threshold are returned too
        self.last_ts: dict[str, float] = {}
        self.stamps: dict[tuple[str | None, ...], float] = {}
        self.max_chars = self.p.max_line_chars

    # -- parsing and grouping --------------------------------------------------------------
    def _parse(self, line: Line, out: list[dict[str, Any]]) -> tuple[str, str, tuple[str, ...], float] | None:
        text = line.text
        if len(text) > self.max_chars:
            text = text[: self.max_chars]
            self.counts["lines_cut_to_max_line_chars"] += 1
        if not text or text.isspace():
            self.counts["blank_lines"] += 1
            return None
        ts = math.nan
        split = self.split
        if split is not None:
            fields = split(text)
            if fields is None:
                self.counts["lines_unmatched_header"] += 1
                content = text.strip()
            else:
                content = fields.get("Content", "")
                ts = self._stamp(fields)
                if ts == ts:  # not NaN
                    prev = self.last_ts.get(line.source)
                    if prev is not None and ts < prev:
                        self.counts["timestamps_backwards"] += 1
                    else:
                        self.last_ts[line.source] = ts
        else:
            content = text.strip()
        res = self.miner.add(content, parameters=self.want_parameters)
        eid = res.event_id
        self.vocab.templates[eid] = res.template
        if eid not in self.known:
            self._unknown(line, content, eid, res.template, out)
        return eid, content, res.parameters, ts

    def _unknown(self, line: Line, content: str, eid: str, template: str, out: list[dict[str, Any]]) -> None:
        """A line of a template the model never saw: alert on its first line, keep it in the LRU, cap templates."""
        self.counts["lines_new_template"] += 1
        self.recent[eid] = None
        self.recent.move_to_end(eid)
        if eid not in self.alerted_new:
            self.alerted_new.add(eid)
            if self.p.new_template_alerts:
                out.append(self._line_alert(line, content, eid, template, "new_template", math.inf, None,
                                            "a template the model never saw (learned now)"))
            if len(self.miner) > self.p.max_templates:
                self._evict()

    def _stamp(self, fields: dict[str, str]) -> float:
        """``line_timestamp``, remembered per distinct time text (lines of one second share it; strptime is slow)."""
        get = fields.get
        key = (get("Timestamp"), get("Time"), get("Date"), get("Month"), get("Day"))  # _STAMP_KEY, spelt out: hot
        ts = self.stamps.get(key)
        if ts is None:
            if len(self.stamps) >= STAMP_CACHE:
                self.stamps.clear()
            ts = self.stamps[key] = line_timestamp(fields)
        return ts

    def _evict(self) -> None:
        while len(self.miner) > self.p.max_templates and self.recent:
            eid, _ = self.recent.popitem(last=False)
            if self.miner.forget(eid):
                self.counts["templates_evicted"] += 1
                self.alerted_new.discard(eid)
                self.vocab.templates.pop(eid, None)

    def _keys(self, line: Line, content: str, ts: float) -> list[str]:
        if self.session_rx is not None:
            if self.whole_ids:  # no groups in the pattern: findall gives whole matches, faster than finditer
                ids = self.session_rx.findall(line.text)
                if len(ids) == 1:
                    return ids
                ids = list(dict.fromkeys(ids))
            else:
                ids = list(dict.fromkeys(m.group(0) for m in self.session_rx.finditer(line.text)))
            if not ids:
                self.counts["lines_without_session"] += 1
            elif len(ids) > 1:
                self.counts["lines_in_several_sessions"] += 1
            return ids
        if self.unit == "lines":
            k = (line.number - 1) // int(self.size)
        else:
            k = math.floor((line.arrived if math.isnan(ts) else ts) / self.size)
        return [f"{line.source}:{k}"]

    # -- alerts ----------------------------------------------------------------------------
    def _line_alert(self, line: Line, content: str, eid: str, template: str, kind: str, score: float,
                    session: str | None, why: str) -> dict[str, Any]:
        return {"alert": True, "kind": kind, "time": _iso(line.arrived), "file": line.source, "line": line.number,
                "session": session, "score": score, "threshold": None if kind == "new_template" else self.threshold,
                "event": eid, "template": template, "raw": line.text[: self.p.max_line_chars], "why": why,
                "delay_s": None}

    # -- Streamer --------------------------------------------------------------------------
    def feed(self, lines: list[Line]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        pending: list[tuple[Line, OpenSession, list[str], str, str]] = []  # next-event lines to score
        closed: list[OpenSession] = []
        p = self.p
        for line in lines:
            self.clock += 1
            parsed = self._parse(line, out)
            if parsed is None:
                continue
            eid, content, params, ts = parsed
            for key in self._keys(line, content, ts):
                if self.by == "window":
                    closed.extend(self._close_earlier_windows(line.source, key))
                s = self.sessions.get(key, self.clock, line.arrived)
                if self.next_event:
                    pending.append((line, s, s.events[-self.window:] if self.window else [], eid, content))
                s.events.append(eid)
                s.contents.append(content[:500])
                s.parameters.append(params)
                s.timestamps.append(ts)
                s.files.append(line.source)
                s.numbers.append(line.number)
                self.sessions.lines += 1
                if len(s) >= p.max_session_lines or (self.by == "window" and self.unit == "lines"
                                                     and line.number % int(self.size) == 0):
                    closed.append(self.sessions.pop(key))
                    if len(s) >= p.max_session_lines and self.by != "window":
                        self.counts["sessions_closed_at_max_session_lines"] += 1
        closed.extend(self._over_caps())  # once a batch: the caps may be passed by at most one batch of lines
        if pending:
            out.extend(self._score_lines(pending))
        if closed:
            out.extend(self._score_sessions(closed))
        self.counts["lines"] += len(lines)
        return out

    def _close_earlier_windows(self, source: str, key: str) -> list[OpenSession]:
        """A line of a later window of a file closes that file's earlier windows."""
        prefix = source + ":"
        done = [k for k in self.sessions.by_key if k.startswith(prefix) and k != key
                and int(k[len(prefix):]) < int(key[len(prefix):])]
        return [self.sessions.pop(k) for k in done]

    def _over_caps(self) -> list[OpenSession]:
        out: list[OpenSession] = []
        p = self.p
        while len(self.sessions) > p.max_sessions or self.sessions.lines > p.max_open_lines:
            oldest = self.sessions.oldest()
            assert oldest is not None
            out.append(self.sessions.pop(oldest.key))
            self.counts["sessions_closed_at_cap"] += 1
        while True:
            oldest = self.sessions.oldest()
            if oldest is None or self.clock - oldest.last_clock < p.idle_lines:
                break
            out.append(self.sessions.pop(oldest.key))
            self.counts["sessions_closed_idle"] += 1
        return out

    def tick(self, now: float) -> list[dict[str, Any]]:
        closed: list[OpenSession] = []
        while True:
            oldest = self.sessions.oldest()
            if oldest is None or now - oldest.last_seen < self.p.idle_seconds:
                break
            closed.append(self.sessions.pop(oldest.key))
            self.counts["sessions_closed_idle"] += 1
        return self._score_sessions(closed) if closed else []

    def close(self) -> list[dict[str, Any]]:
        closed = [self.sessions.pop(k) for k in list(self.sessions.by_key)]
        return self._score_sessions(closed) if closed else []

    # -- scoring ---------------------------------------------------------------------------
    def _score_lines(self, pending: list[tuple[Line, OpenSession, list[str], str, str]]) -> list[dict[str, Any]]:
        scores = self.det.score_next([h for _, _, h, _, _ in pending], [e for _, _, _, e, _ in pending], self.vocab)
        out = []
        for (line, s, _, eid, content), score in zip(pending, scores, strict=True):
            flagged = bool(score > self.threshold)
            if not flagged and not self.every:
                continue
            why = ("an event never seen in training" if eid not in self.known else
                   f"an unlikely next event (rank {int(score)} among the predictions)")
            rec = self._line_alert(line, content, eid, self.vocab.template(eid), "line", float(score), s.key, why)
            rec["alert"] = flagged
            rec["delay_s"] = round(max(0.0, time.time() - line.arrived), 4)
            out.append(rec)
        self.counts["lines_scored"] += len(pending)
        return out

    def _session(self, s: OpenSession) -> LogSession:
        ts = np.asarray(s.timestamps, dtype=np.float64)
        return LogSession(id=s.key, events=tuple(s.events), lines=tuple(s.contents), parameters=tuple(s.parameters),
                          timestamps=None if np.isnan(ts).all() else ts, vocabulary=self.vocab,
                          meta={"file": s.files[0] if s.files else "", "line_numbers": np.asarray(s.numbers)})

    def _score_sessions(self, closed: list[OpenSession]) -> list[dict[str, Any]]:
        keep = [s for s in closed if len(s) >= self.min_length]
        self.counts["sessions_too_short"] += len(closed) - len(keep)
        self.counts["sessions_closed"] += len(closed)
        if not keep:
            return []
        if self.next_event:
            if not self.end_marker:
                return []
            scores = self.det.score_next([s.events[-self.window:] for s in keep], [None] * len(keep), self.vocab)
            out = []
            for s, score in zip(keep, scores, strict=True):
                if score > self.threshold or self.every:
                    out.append(self._session_alert(s, float(score), None, "end",
                                                   "the session ended where the model expected more lines"))
            return out
        try:
            result = self.det.score([self._session(s) for s in keep])
        except DataError as exc:
            self.counts["sessions_not_scored"] += len(keep)
            self.say(f"note: {len(keep)} sessions could not be scored ({exc})")
            return []
        out = []
        for i, s in enumerate(keep):
            score = float(result.sample[i])
            if score > self.threshold or self.every:
                local = None if result.local is None else np.asarray(result.local[i], dtype=np.float64)
                out.append(self._session_alert(s, score, local, "session", self._why(s, local)))
        return out

    def _why(self, s: OpenSession, local: np.ndarray | None) -> str:
        new = sorted({e for e in s.events if e not in self.known})
        if new:
            return f"count deviation; holds {len(new)} template(s) the model never saw"
        if local is None or not len(local):
            return "count deviation"
        top = s.events[int(np.argmax(local))]
        return f"count deviation, most of all in event {top} ({self.vocab.template(top)[:80]})"

    def _session_alert(self, s: OpenSession, score: float, local: np.ndarray | None, kind: str,
                       why: str) -> dict[str, Any]:
        if local is not None and len(local) == len(s):
            order = np.argsort(-local, kind="stable")[:TOP_LINES]
        else:
            order = np.arange(len(s))[-TOP_LINES:]
        lines = [{"file": s.files[i], "line": s.numbers[i], "event": s.events[i], "raw": s.contents[i],
                  **({"score": float(local[i])} if local is not None and len(local) == len(s) else {})}
                 for i in (int(j) for j in order)]
        now = time.time()
        return {"alert": score > self.threshold, "kind": kind, "time": _iso(now), "file": s.files[-1],
                "line": s.numbers[-1], "session": s.key, "score": score, "threshold": self.threshold,
                "n_lines": len(s), "first_line": s.numbers[0], "lines": lines, "why": why,
                "delay_s": round(max(0.0, now - s.last_seen), 4)}

    # -- state -----------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"version": STATE_VERSION, "parser": self.miner.to_json(), "sessions": self.sessions.to_json(),
                "recent": list(self.recent), "alerted_new": sorted(self.alerted_new), "clock": self.clock,
                "counts": dict(self.counts), "last_ts": self.last_ts}

    def restore(self, state: dict[str, Any]) -> None:
        from omniad_logs.parsing import TemplateMiner

        where = "the watch checkpoint"
        if state.get("version") != STATE_VERSION or not isinstance(state.get("parser"), str):
            raise DataError(f"{where} holds no version-{STATE_VERSION} log watch state; delete it to start afresh")
        self.miner = TemplateMiner.from_json(state["parser"], where)
        self.vocab.templates.clear()
        self.vocab.templates.update(self.miner.templates())
        self.sessions.restore(state.get("sessions"), where)
        try:
            self.recent = OrderedDict((str(e), None) for e in state["recent"])
            self.alerted_new = {str(e) for e in state["alerted_new"]}
            self.clock = int(state["clock"])
            self.counts = Counter({str(k): int(v) for k, v in state["counts"].items()})
            self.last_ts = {str(k): float(v) for k, v in state["last_ts"].items()}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataError(f"{where}: the log watch state is not usable ({exc}); delete it to start afresh") from None

    def status(self) -> dict[str, int | float]:
        c = self.counts
        out: dict[str, int | float] = {"open_sessions": len(self.sessions), "templates": len(self.miner),
                                       "new_templates": len(self.alerted_new)}
        for key in ("templates_evicted", "sessions_closed", "sessions_closed_at_cap", "lines_unmatched_header",
                    "timestamps_backwards", "lines_without_session", "sessions_not_scored"):
            if c.get(key):
                out[key] = int(c[key])
        return out

