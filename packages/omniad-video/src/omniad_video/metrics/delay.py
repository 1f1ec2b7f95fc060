"""Event-level detection delay: how many frames after an anomalous event starts it is flagged.

An event is a maximal run of anomalous frames. The alarm threshold is fixed without the
anomalous frames' scores: a quantile of the scores of the normal test frames (the rate of
false alarms one accepts), or a given value. An event is detected if some frame inside it
reaches the threshold; its delay is the distance from its first frame to that frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from omniad.errors import DataError


def events(target: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` of the runs of 1s in a 0/1 array (stop exclusive)."""
    t = np.r_[0, (np.asarray(target).reshape(-1) > 0).astype(np.int8), 0]
    edges = np.flatnonzero(np.diff(t))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def detection_delay(
    targets: Sequence[np.ndarray], scores: Sequence[np.ndarray], *, threshold: float | None = None,
    normal_quantile: float = 0.99,
) -> dict[str, float]:
    """Mean delay (frames) over detected events, fraction of events detected, and the threshold used."""
    bad = sum(int((~np.isfinite(np.asarray(s, dtype=float))).sum()) for s in scores)
    if bad:
        raise DataError(f"detection delay: {bad} frame scores are NaN/inf; fix the detector")
    if threshold is None:
        normal = np.concatenate([np.asarray(s)[np.asarray(t) == 0] for t, s in zip(targets, scores, strict=True)])
        if normal.size == 0:
            raise DataError("detection delay: no normal frames to set the alarm threshold from; give threshold=")
        threshold = float(np.quantile(normal, normal_quantile))
    delays, found, total = [], 0, 0
    for t, s in zip(targets, scores, strict=True):
        s = np.asarray(s)
        for start, stop in events(t):
            total += 1
            hits = np.flatnonzero(s[start:stop] >= threshold)
            if hits.size:
                found += 1
                delays.append(int(hits[0]))
    if total == 0:
        raise DataError("detection delay: the ground truth has no anomalous event")
    return {"delay_frames": float(np.mean(delays)) if delays else float("nan"),
            "detected": found / total, "threshold": threshold}
