"""The patterns behind CAR's high-ranked alerts, and its per-sequence ranking (NumPy only).

An analyst wants the scenario, not 40 separate alerts: within each sequence, consecutive
high-ranked events (combined score above the training ``pattern_quantile``) form an episode;
its template is the sequence fields' values of those events with immediate repeats collapsed
(``service=http x5``). Identical templates across sequences are one pattern, ranked by how
often it occurs, then by its highest score; each names the sequences it was seen in, its
longest time span, and which component (order, rhythm, content) drove its events' scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def tokens(values: np.ndarray, names: list[str]) -> list[str]:
    """One readable token per event: ``field=value`` of the sequence fields."""
    return [
        " ".join(f"{n}={'?' if v is None else v}" for n, v in zip(names, row, strict=True)) for row in values
    ]


def _collapse(toks: list[str]) -> tuple[list[str], list[int]]:
    out: list[str] = []
    reps: list[int] = []
    for t in toks:
        if out and out[-1] == t:
            reps[-1] += 1
        else:
            out.append(t)
            reps.append(1)
    return out, reps


def patterns(
    sequences: list[np.ndarray],
    keys: list[str],
    score: np.ndarray,
    parts: dict[str, np.ndarray],
    toks: list[str],
    times: np.ndarray,
    threshold: float,
    limit: int,
) -> list[dict[str, Any]]:
    found: dict[tuple[tuple[str, ...], tuple[int, ...]], dict[str, Any]] = {}
    for seq, key in zip(sequences, keys, strict=True):
        high = score[seq] > threshold
        j = 0
        while j < len(seq):
            if not high[j]:
                j += 1
                continue
            end = j
            while end + 1 < len(seq) and high[end + 1]:
                end += 1
            run = seq[j : end + 1]
            template, reps = _collapse([toks[i] for i in run])
            entry = found.setdefault(
                (tuple(template), tuple(reps)),
                {
                    "template": template,
                    "repeats": reps,
                    "occurrences": 0,
                    "alerts": 0,
                    "sequences": [],
                    "max_score": -np.inf,
                    "score_sum": 0.0,
                    "span_s": 0.0,
                    "drivers": dict.fromkeys(parts, 0.0),
                },
            )
            entry["occurrences"] += 1
            entry["alerts"] += len(run)
            if key not in entry["sequences"]:
                entry["sequences"].append(key)
            entry["max_score"] = max(entry["max_score"], float(score[run].max()))
            entry["score_sum"] += float(score[run].sum())
            entry["span_s"] = max(entry["span_s"], float(times[run[-1]] - times[run[0]]))
            for name, values in parts.items():
                entry["drivers"][name] += float(values[run].sum())
            j = end + 1
    ranked = sorted(found.values(), key=lambda e: (-e["occurrences"], -e["max_score"]))[:limit]
    out = []
    for e in ranked:
        drivers, total = e.pop("drivers"), e.pop("score_sum")
        out.append(
            {
                **e,
                "sequences": e["sequences"][:10],
                "max_score": round(e["max_score"], 4),
                "mean_score": round(total / e["alerts"], 4),
                "span_s": round(e["span_s"], 3),
                "driver": max(drivers, key=lambda k: drivers[k]) if drivers else None,
            }
        )
    return out


def top_sequences(
    sequences: list[np.ndarray], keys: list[str], score: np.ndarray, threshold: float, limit: int
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Per-event score of its sequence (the sequence's highest event score) and the ``limit`` top sequences."""
    per_event = np.empty(len(score))
    rows: list[dict[str, Any]] = []
    for seq, key in zip(sequences, keys, strict=True):
        top = float(score[seq].max())
        per_event[seq] = top
        rows.append(
            {
                "key": key,
                "score": round(top, 4),
                "events": len(seq),
                "high_ranked": int((score[seq] > threshold).sum()),
            }
        )
    rows.sort(key=lambda r: -r["score"])
    return per_event, rows[:limit]
