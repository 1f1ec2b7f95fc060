"""Sequences, times and tails for ``events.car`` (NumPy only).

- ``sequence_order``: the events grouped by sequence key and sorted by time within each (file
  order breaks ties and orders events without a time); a missing key is a sequence of its own
  (``<missing>``), a missing or unreadable time takes the previous event's time in its sequence;
  both are counted.
- ``neighbours``: for each event, how many events of its own sequence lie within ``w`` seconds
  of it (before or after), and ``closeness``: how near its nearest one is: the burstiness CAR's
  temporal model sees besides the order.

The components' surprises are put on one scale by ``tails.Tail``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np

from omniad_events.encoding import MISSING


@dataclass
class SequenceCounts:
    """What ordering the events had to repair (added to provenance)."""

    missing_keys: int = 0
    missing_times: int = 0
    no_key: bool = False
    no_time: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "missing_keys": self.missing_keys,
            "missing_times": self.missing_times,
            "no_key": self.no_key,
            "no_time": self.no_time,
        }


def _seconds(value: Any) -> float:
    """A time as seconds: a number, a datetime / pandas Timestamp / numpy datetime64, or text that parses as one."""
    if value is None or isinstance(value, bool):
        return np.nan
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if hasattr(value, "timestamp") and callable(value.timestamp):  # datetime, pandas Timestamp
        try:
            return float(value.timestamp())
        except (ValueError, OverflowError, OSError):  # NaT
            return np.nan
    if isinstance(value, date):
        return float(datetime(value.year, value.month, value.day).timestamp())
    if isinstance(value, np.datetime64):
        return float(value.astype("datetime64[ns]").astype(np.int64)) / 1e9 if not np.isnat(value) else np.nan
    text = str(value).strip()
    if not text:
        return np.nan
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return float(np.datetime64(text.replace(" ", "T").rstrip("Z"), "ns").astype(np.int64)) / 1e9
    except ValueError:
        return np.nan


def _text_clock(texts: list[str]) -> np.ndarray:
    """Seconds of text times that are not ISO (CIC-IDS2017's ``3/7/2017 8:55``), one format for the whole
    column: month first as pandas infers it from the first cell, or day first, whichever reads more cells
    (cell by cell, ``12/7`` and ``13/7`` would be read in different orders)."""
    import warnings

    import pandas as pd

    best = np.full(len(texts), np.nan)
    for dayfirst in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas' "could not infer format" advice
            try:
                parsed = pd.to_datetime(pd.Series(texts, dtype=object), errors="coerce", utc=True, dayfirst=dayfirst)
            except (ValueError, TypeError, OverflowError):
                continue
        secs = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=np.float64)
        if np.isfinite(secs).sum() > np.isfinite(best).sum():
            best = secs
    return best


def seconds(times: Sequence[Any] | None, n: int) -> np.ndarray:
    """Times as float seconds (NaN where missing or unreadable); all NaN when there are none."""
    if times is None:
        return np.full(n, np.nan)
    out = np.array([_seconds(t) for t in times], dtype=np.float64)
    out[~np.isfinite(out)] = np.nan
    unread = [i for i, t in enumerate(times) if np.isnan(out[i]) and isinstance(t, str) and t.strip()]
    if unread:  # text in another format than ISO
        out[unread] = _text_clock([times[i] for i in unread])
    return out


def sequence_order(keys: Sequence[Any] | None, times: np.ndarray, counts: SequenceCounts) -> list[np.ndarray]:
    """Event indices per sequence, each in time order; see the module docstring."""
    n = len(times)
    if keys is None:
        counts.no_key = True
        key_list = [MISSING] * n
    else:
        key_list = [MISSING if k is None or (isinstance(k, float) and k != k) else str(k) for k in keys]
        counts.missing_keys += sum(k == MISSING for k in key_list)
    groups: dict[str, list[int]] = {}
    for i, k in enumerate(key_list):
        groups.setdefault(k, []).append(i)
    missing = np.isnan(times)
    counts.no_time = bool(missing.all())
    if not counts.no_time:
        counts.missing_times += int(missing.sum())
    out = []
    for idx in groups.values():
        idx_arr = np.asarray(idx, dtype=np.int64)
        t = times[idx_arr].copy()
        for j in range(len(t)):  # a missing time stays where the file put it: the previous event's time
            if np.isnan(t[j]):
                t[j] = t[j - 1] if j else np.nanmin(t) if not np.isnan(t).all() else 0.0
        times[idx_arr] = t
        out.append(idx_arr[np.argsort(t, kind="stable")])
    return out


def sequence_keys(keys: Sequence[Any] | None, sequences: list[np.ndarray]) -> list[str]:
    if keys is None:
        return [MISSING for _ in sequences]
    return [MISSING if keys[s[0]] is None else str(keys[s[0]]) for s in sequences]


def gaps(sequences: list[np.ndarray], times: np.ndarray) -> np.ndarray:
    """Time between consecutive events of each sequence (all sequences together)."""
    parts = [np.diff(times[s]) for s in sequences if len(s) > 1]
    return np.concatenate(parts) if parts else np.zeros(0)


def neighbours(sequences: list[np.ndarray], times: np.ndarray, w: float) -> np.ndarray:
    """Events of the same sequence within ``w`` seconds of each event (itself not counted)."""
    out = np.zeros(len(times))
    for s in sequences:
        t = times[s]
        out[s] = np.searchsorted(t, t + w, side="right") - np.searchsorted(t, t - w, side="left") - 1
    return out


def closeness(sequences: list[np.ndarray], times: np.ndarray, unit: float) -> np.ndarray:
    """-log1p(gap / unit) of the gap to the nearest event of the same sequence (before or after): 0 for
    simultaneous events, lower the more isolated; an event alone in its sequence counts as 10^6 units away. A burst of
    two events shows here even when it is too short to raise a window count."""
    out = np.full(len(times), -np.log1p(1e6))
    for s in sequences:
        if len(s) < 2:
            continue
        d = np.diff(times[s])
        near = np.minimum(np.r_[np.inf, d], np.r_[d, np.inf])
        out[s] = -np.log1p(near / unit)
    return out
