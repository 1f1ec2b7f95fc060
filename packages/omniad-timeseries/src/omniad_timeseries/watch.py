"""Scoring a live series for ``omniad watch``: CSV rows or JSON lines, one timestep each.

Rows are read with the model's channels (``timeseries.table`` saved them at fit time): a CSV
header names the columns (a file watched from its end, without a header, is read in the
model's channel order, with a leading time column when there is one more field); a JSON line
is an object with the channels and optionally a time field. Each batch of new rows is scored
with the last ``context`` rows before it, so a timestep's score only uses what came before it
(windows that end at it, as a live system must). A timestep is an alert when its score is
above the threshold: the model's element threshold, or with ``adapt=spot`` / ``dspot`` one that
SPOT/DSPOT (``thresholds.SPOT``) moves with the stream once ``spot_init`` scores were seen,
holding at most ``max_peaks`` peaks. Bad rows (unreadable numbers, wrong field counts, times
going backwards) are counted and skipped; the watch goes on.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter, deque
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
from pydantic import Field

from omniad.errors import ConfigError, DataError
from omniad.params import Params, validate_params
from omniad.watch.follow import Line
from omniad_timeseries.datasets.reading import TIMESTAMP_NAMES

STATE_VERSION = 1


class SeriesWatchParams(Params):
    """Options of a live series watch (``--set NAME=VALUE``)."""

    context: int | None = Field(default=None, ge=2, description="rows of history scored with each new batch (default: 4 x the detector's window, at least 64)")
    lag: int | None = Field(default=None, ge=0, description="rows to wait before deciding a row, so every window covering it is scored as in `omniad score` (default: the detector's window - 1; 0 decides at once)")
    adapt: Literal["none", "spot", "dspot"] = Field(default="none", description="move the threshold with the stream: SPOT, or DSPOT (drift-aware)")
    spot_init: int = Field(default=500, ge=50, description="scores seen before SPOT/DSPOT takes over from the model's threshold")
    spot_risk: float = Field(default=1e-3, gt=0, lt=0.5, description="SPOT's q: the risk of a normal score passing the threshold")
    spot_depth: int = Field(default=20, ge=1, description="DSPOT's moving-average depth")
    max_peaks: int = Field(default=5_000, ge=10, description="peaks SPOT keeps (the oldest are dropped)")
    columns: list[str] | None = Field(default=None, description="CSV column names, for a file watched without its header line")


def _float(text: Any) -> float:
    if isinstance(text, bool):
        raise ValueError("a boolean")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("not finite")
    return value


def _time(value: Any) -> float:
    """Seconds since the epoch of a time field (a number, or an ISO date-time); NaN when unreadable."""
    if value is None or value == "":
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    try:
        when = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return math.nan
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


class SeriesStreamer:
    """The ``Streamer`` of time-series models (see the module docstring)."""

    def __init__(self, dataset: Any, detector: Any, options: dict[str, Any], say: Any) -> None:
        self.p: SeriesWatchParams = validate_params(SeriesWatchParams, options, "omniad watch --set")
        self.det = detector
        self.say = say
        channels = getattr(dataset, "_channels", None)
        if not channels:
            raise ConfigError(f"{detector.where}: the model does not name its channels; refit it with `omniad fit` "
                              "on a CSV/parquet file")
        self.channels: list[str] = list(channels)
        if "element" in detector.thresholds_:
            self.base_threshold = float(detector.thresholds_["element"].value)
        else:
            raise ConfigError(f"{detector.where}: the model has no per-timestep threshold; fit it with `omniad fit` "
                              "(which chooses one) and watch that model")
        window = getattr(detector, "window_", None) or getattr(detector.params, "window", None) or 1
        minimum = detector.min_length() if hasattr(detector, "min_length") else 2
        self.context = self.p.context or max(4 * int(window), 64, int(minimum) + 1)
        self.min_rows = max(int(minimum), 2)
        self.every = False
        self.columns: list[str] | None = list(self.p.columns) if self.p.columns else None
        self.lag = self.p.lag if self.p.lag is not None else max(int(window) - 1, 0)
        self.rows: list[np.ndarray] = []
        self.pending: list[dict[str, Any]] = []
        self.row_no = 0
        self.last_time = -math.inf
        self.counts: Counter[str] = Counter()
        self.spot: Any = None
        self.init_scores: list[float] = []
        self.updates = 0

    # -- reading rows ----------------------------------------------------------------------
    def _row(self, line: Line) -> tuple[np.ndarray, float] | None:
        text = line.text.strip()
        if not text:
            return None
        if text.startswith("{"):
            try:
                obj = json.loads(text)
                values = np.array([_float(obj[c]) for c in self.channels])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                self.counts["rows_unreadable"] += 1
                return None
            stamp = next((obj[k] for k in obj if str(k).lower() in TIMESTAMP_NAMES), None)
            return values, _time(stamp)
        fields = next(csv.reader([text]))
        if all(c in fields for c in self.channels) and not _numeric(fields):  # a header line
            self.columns = fields
            self.counts["header_lines"] += 1
            return None
        if self.columns is None:
            n = len(self.channels)
            if len(fields) in (n, n + 1) and _numeric(fields[len(fields) - n:]):
                self.columns = (["timestamp"] if len(fields) > n else []) + self.channels
                self.say(f"note: no header line seen; reading rows as {self.columns} (--set columns=[...] to name them)")
            else:
                self.counts["rows_unreadable"] += 1
                return None
        if len(fields) != len(self.columns):
            self.counts["rows_wrong_field_count"] += 1
            return None
        row = dict(zip(self.columns, fields, strict=True))
        try:
            values = np.array([_float(row[c]) for c in self.channels])
        except (KeyError, ValueError):
            self.counts["rows_unreadable"] += 1
            return None
        stamp = next((row[k] for k in row if k.lower() in TIMESTAMP_NAMES), None)
        return values, _time(stamp)

    # -- Streamer --------------------------------------------------------------------------
    def feed(self, lines: list[Line]) -> list[dict[str, Any]]:
        for line in lines:
            parsed = self._row(line)
            if parsed is None:
                continue
            values, stamp = parsed
            if not math.isnan(stamp):
                if stamp < self.last_time:
                    self.counts["timestamps_backwards"] += 1
                    continue
                self.last_time = stamp
            self.row_no += 1
            self.rows.append(values)
            self.pending.append({"file": line.source, "line": line.number, "arrived": line.arrived,
                                 "raw": line.text[:500], "timestamp": None if math.isnan(stamp) else stamp,
                                 "row": self.row_no})
        return self._emit(final=False)

    def _emit(self, final: bool) -> list[dict[str, Any]]:
        """Score the pending rows; decide those with ``lag`` rows after them (all of them when ``final``)."""
        ready = len(self.pending) if final else len(self.pending) - self.lag
        if ready <= 0 or not self.pending:
            return []
        if len(self.rows) < self.min_rows:
            if final:
                self.counts["rows_never_scored"] += len(self.pending)
                self.pending = []
            return []
        x = np.vstack(self.rows[-(self.context + len(self.pending)):])
        try:
            result = self.det.score([x])
        except DataError as exc:
            self.counts["rows_not_scored"] += ready
            self.say(f"note: {ready} rows could not be scored ({exc})")
            self.pending = self.pending[ready:]
            return []
        local = result.local[0] if result.local is not None else np.full(len(x), result.sample[0])
        scores = np.asarray(local, dtype=np.float64)[-len(self.pending):][:ready]
        values_of = x[-len(self.pending):][:ready]
        mean, std = x.mean(axis=0), x.std(axis=0)
        out = []
        for meta, values, score in zip(self.pending[:ready], values_of, scores, strict=True):
            threshold = self._threshold()
            flagged = bool(score > threshold)
            self._learn(float(score))
            if not flagged and not self.every:
                continue
            z = np.abs(values - mean) / np.where(std > 0, std, 1.0)
            top = self.channels[int(np.argmax(z))]
            out.append({
                "alert": flagged, "kind": "value",
                "time": datetime.fromtimestamp(meta["arrived"], UTC).isoformat(timespec="milliseconds").replace(
                    "+00:00", "Z"),
                "file": meta["file"], "line": meta["line"], "row": meta["row"], "timestamp": meta["timestamp"],
                "score": float(score), "threshold": threshold,
                "threshold_rule": "model" if self.spot is None else self.p.adapt,
                "values": dict(zip(self.channels, values.tolist(), strict=True)), "raw": meta["raw"],
                "why": f"value beyond the tail threshold; channel {top} deviates most from the last {len(x)} rows",
            })
        self.pending = self.pending[ready:]
        del self.rows[: max(0, len(self.rows) - (self.context + len(self.pending)))]
        return out

    def _threshold(self) -> float:
        return self.base_threshold if self.spot is None else float(self.spot.threshold_)

    def _learn(self, score: float) -> None:
        if self.p.adapt == "none" or not math.isfinite(score):
            return
        if self.spot is None:
            self.init_scores.append(score)
            if len(self.init_scores) >= self.p.spot_init:
                self._start_spot()
            return
        before = self.spot.threshold_
        self.spot.step(score)
        if len(self.spot.peaks_) > self.p.max_peaks:
            del self.spot.peaks_[: len(self.spot.peaks_) - self.p.max_peaks]
            self.counts["spot_peaks_dropped"] += 1
        if self.spot.threshold_ != before:
            self.updates += 1

    def _start_spot(self) -> None:
        from omniad_timeseries.thresholds import SPOT

        depth = self.p.spot_depth if self.p.adapt == "dspot" else 0
        try:
            self.spot = SPOT(q=self.p.spot_risk, depth=depth).fit(np.asarray(self.init_scores))
        except DataError as exc:
            self.say(f"note: {self.p.adapt} could not start ({exc}); keeping the model's threshold")
            self.p = self.p.model_copy(update={"adapt": "none"})
        else:
            self.say(f"note: {self.p.adapt} takes over: threshold {self.base_threshold:.4g} -> "
                     f"{self.spot.threshold_:.4g} after {len(self.init_scores)} scores")
        self.init_scores = []

    def tick(self, now: float) -> list[dict[str, Any]]:
        return []

    def close(self) -> list[dict[str, Any]]:
        return self._emit(final=True)

    # -- state -----------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        spot = None
        if self.spot is not None:
            s = self.spot
            spot = {"initial": s.initial_, "peaks": [float(v) for v in s.peaks_], "n": s.n_, "shape": s.shape_,
                    "scale": s.scale_, "window": None if s.window_ is None else list(s.window_)}
        return {"version": STATE_VERSION, "rows": [r.tolist() for r in self.rows], "pending": self.pending,
                "row_no": self.row_no,
                "last_time": None if not math.isfinite(self.last_time) else self.last_time,
                "columns": self.columns, "counts": dict(self.counts), "init_scores": self.init_scores,
                "spot": spot, "updates": self.updates, "adapt": self.p.adapt}

    def restore(self, state: dict[str, Any]) -> None:
        where = "the watch checkpoint"
        if state.get("version") != STATE_VERSION:
            raise DataError(f"{where} holds no version-{STATE_VERSION} series watch state; delete it to start afresh")
        try:
            rows = [np.asarray(r, dtype=np.float64) for r in state["rows"]]
            if any(r.shape != (len(self.channels),) for r in rows):
                raise ValueError(f"rows are not {len(self.channels)} values each")
            self.rows = rows
            pending = state["pending"]
            if not isinstance(pending, list) or not all(isinstance(m, dict) and {"file", "line", "arrived", "raw",
                                                                                   "timestamp", "row"} <= set(m)
                                                       for m in pending):
                raise ValueError("'pending' is not a list of pending rows")
            self.pending = pending
            self.row_no = int(state["row_no"])
            self.last_time = -math.inf if state["last_time"] is None else float(state["last_time"])
            self.columns = None if state["columns"] is None else [str(c) for c in state["columns"]]
            self.counts = Counter({str(k): int(v) for k, v in state["counts"].items()})
            self.init_scores = [float(v) for v in state["init_scores"]]
            self.updates = int(state["updates"])
            spot = state["spot"]
            if spot is not None and self.p.adapt != "none":
                from omniad_timeseries.thresholds import SPOT, GPDFit

                depth = self.p.spot_depth if self.p.adapt == "dspot" else 0
                s = SPOT(q=self.p.spot_risk, depth=depth)
                s.initial_, s.peaks_, s.n_ = float(spot["initial"]), [float(v) for v in spot["peaks"]], int(spot["n"])
                s.shape_, s.scale_ = float(spot["shape"]), float(spot["scale"])
                s.window_ = None if spot["window"] is None else deque([float(v) for v in spot["window"]],
                                                                      maxlen=depth)
                s.extreme_ = GPDFit(s.initial_, s.shape_, s.scale_, len(s.peaks_), s.n_).quantile(s.q)
                self.spot = s
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataError(f"{where}: the series watch state is not usable ({exc}); delete it to start afresh") from None

    def status(self) -> dict[str, int | float]:
        out: dict[str, int | float] = {"rows": self.row_no, "pending_rows": len(self.pending),
                                       "threshold": self._threshold()}
        if self.p.adapt != "none":
            out["threshold_updates"] = self.updates
        for key in ("rows_unreadable", "rows_wrong_field_count", "timestamps_backwards", "rows_not_scored"):
            if self.counts.get(key):
                out[key] = int(self.counts[key])
        return out


def _numeric(fields: list[str]) -> bool:
    try:
        for f in fields:
            float(f)
    except ValueError:
        return False
    return True
