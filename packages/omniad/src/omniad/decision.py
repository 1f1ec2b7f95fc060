"""From scores to decisions: thresholds chosen at fit time, saved in the model, applied by scoring.

A score says "more or less anomalous"; a user needs "these timesteps / lines / pixels /
points / frames are anomalous". The threshold is chosen once, when the model is fitted,
without labels, by one of three rules (the same words as PyOD and the SPOT paper):

- ``quantile:q`` (default ``q = 0.99``): a quantile of scores on normal data the detector
  did not fit on (a held-out share of the fit data), so the expected false-alarm rate is
  ``1 - q``. In-sample scores would be biased low (a kNN bank matches itself).
- ``contamination:c`` (PyOD's ``contamination``): the fit data is assumed to hold a share ``c``
  of anomalies; the threshold is its ``1 - c`` quantile of the detector's scores on that
  same data, the ``omniad detect`` rule for unlabelled data with no known-normal part.
- ``pot:risk`` (Siffer et al., KDD 2017): a generalised Pareto tail fitted to the held-out
  scores, extrapolated to exceedance probability ``risk``; needs many scores (series
  timesteps, pixels), and falls back to the 0.99 quantile, saying so, where there are too few.

There is one threshold per level: ``sample`` (images, sessions, texts, clouds, videos) and
``element`` (the pooled localization scores: timesteps, lines, pixels, points, frames).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from omniad.errors import ConfigError, DataError
from omniad.scores import Scores

Rule = Literal["quantile", "contamination", "pot"]
RULES: tuple[str, ...] = ("quantile", "contamination", "pot")
#: fewest samples for which a held-out share of samples is used; below, series are split in time
MIN_SAMPLES_FOR_HOLDOUT = 5


@dataclass(frozen=True)
class DecisionRule:
    """What the user asked for: a rule, its value, and the share of the fit data held out to calibrate."""

    rule: Rule = "quantile"
    value: float = 0.99
    holdout: float = 0.2

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ConfigError(f"threshold rule {self.rule!r} is unknown; use one of {', '.join(RULES)}")
        if not math.isfinite(self.value) or not 0.0 < self.value < 1.0:
            what = {"quantile": "a quantile like 0.99", "contamination": "a share like 0.05",
                    "pot": "a risk like 0.001"}[self.rule]
            raise ConfigError(f"threshold {self.rule}:{self.value} must be in (0, 1): {what}")
        if not 0.0 <= self.holdout < 1.0:
            raise ConfigError(f"holdout {self.holdout} must be in [0, 1): the share of fit data kept to calibrate")

    @classmethod
    def parse(cls, text: str, holdout: float = 0.2) -> DecisionRule:
        """``"quantile:0.99"``, ``"contamination:0.05"``, ``"pot:1e-3"`` or a bare quantile ``"0.99"``."""
        name, sep, value = str(text).partition(":")
        if not sep:
            name, value = "quantile", name
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"threshold {text!r}: {value!r} is not a number; write e.g. quantile:0.99, "
                              "contamination:0.05 or pot:0.001") from None
        return cls(name.strip().lower(), number, holdout)  # type: ignore[arg-type]

    def describe(self) -> str:
        return f"{self.rule}:{self.value:g}"


@dataclass(frozen=True)
class Threshold:
    """One level's threshold and how it was obtained (saved in the model's header)."""

    level: Literal["sample", "element"]
    value: float
    rule: str
    param: float
    n_scores: int
    calibration: str
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any, where: str) -> Threshold:
        if not isinstance(data, dict):
            raise DataError(f"{where}: a saved threshold must be an object, got {type(data).__name__}")
        try:
            value = data["value"]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise TypeError(f"value {value!r} is not a finite number")
            level = data["level"]
            if level not in ("sample", "element"):
                raise TypeError(f"level {level!r} is not 'sample' or 'element'")
            return cls(level, float(value), str(data["rule"]), float(data["param"]), int(data["n_scores"]),
                       str(data["calibration"]), str(data.get("note", "")))
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{where}: saved threshold is not usable ({exc}); refit the model") from None

    def describe(self) -> str:
        note = f"; {self.note}" if self.note else ""
        return (f"{self.level} threshold {self.value:.6g} ({self.rule}:{self.param:g} of {self.n_scores} "
                f"{self.calibration} scores{note})")


def threshold_of(scores: np.ndarray, rule: DecisionRule, level: Literal["sample", "element"],
                 calibration: str) -> Threshold:
    """The threshold ``rule`` gives on calibration ``scores`` (finite, at least one)."""
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    s = s[np.isfinite(s)]
    if s.size == 0:
        raise DataError(f"no finite {level} scores to calibrate a threshold on")
    if rule.rule == "contamination":
        return Threshold(level, float(np.quantile(s, 1.0 - rule.value)), "contamination", rule.value, int(s.size), calibration)
    if rule.rule == "pot":
        try:
            from omniad_timeseries.thresholds import pot_threshold
        except ImportError:
            pot_threshold = None
        if pot_threshold is not None:
            try:
                return Threshold(level, pot_threshold(s, q=rule.value), "pot", rule.value, int(s.size), calibration)
            except DataError as exc:
                note = f"pot fell back to the 0.99 quantile: {exc}"
        else:
            note = "pot needs omniad-timeseries (pip install omniad-timeseries); used the 0.99 quantile"
        return Threshold(level, float(np.quantile(s, 0.99)), "quantile", 0.99, int(s.size), calibration, note)
    note = ""
    if s.size * (1.0 - rule.value) < 1.0:
        note = (f"only {s.size} scores: the {rule.value:g} quantile sits near their maximum, so the "
                "false-alarm rate is not known to that precision")
    return Threshold(level, float(np.quantile(s, rule.value)), "quantile", rule.value, int(s.size), calibration, note)


def calibration_split(
    samples: Sequence[Any], rule: DecisionRule, *, localization: str | None, seed: int | None,
) -> tuple[list[Any], list[Any], str]:
    """Fit part, calibration part and how they were made.

    Enough samples: a seeded random share is held out. A few long series (one CSV, one
    metric): the last share of each series is held out, since a series' order matters.
    Otherwise, or with holdout 0: calibrate on the fit data itself, and say so.
    """
    items = [samples[i] for i in range(len(samples))]
    n = len(items)
    if rule.rule == "contamination" or rule.holdout == 0.0:
        return items, items, "in-sample"
    if n >= MIN_SAMPLES_FOR_HOLDOUT:
        k = max(1, round(n * rule.holdout))
        order = np.random.default_rng(0 if seed is None else seed).permutation(n)
        held = set(order[:k].tolist())
        fit = [items[i] for i in range(n) if i not in held]
        cal = [items[i] for i in range(n) if i in held]
        return fit, cal, f"held-out ({k} of {n} samples)"
    if localization == "timestep" and all(isinstance(x, np.ndarray) and x.ndim in (1, 2) for x in items):
        heads, tails = [], []
        for x in items:
            cut = round(len(x) * (1.0 - rule.holdout))
            if cut < 2 or len(x) - cut < 2:
                break
            heads.append(x[:cut])
            tails.append(x[cut:])
        else:
            return heads, tails, f"held-out (last {rule.holdout:.0%} of each series)"
    return items, items, f"in-sample (only {n} samples)"


@dataclass
class Decisions:
    """Scores with the decisions the saved thresholds give (1 = anomalous)."""

    scores: Scores
    sample: np.ndarray | None
    element: list[np.ndarray] | None
    sample_threshold: float | None
    element_threshold: float | None


def apply(scores: Scores, thresholds: dict[str, Threshold]) -> Decisions:
    """Decide each sample and element: anomalous where its score is above its level's threshold."""
    s_t = thresholds.get("sample")
    e_t = thresholds.get("element")
    sample = (scores.sample > s_t.value).astype(np.int8) if s_t is not None else None
    element = None
    if e_t is not None and scores.local is not None:
        element = [(np.asarray(loc) > e_t.value).astype(np.int8) for loc in scores.local]
    return Decisions(scores, sample, element, None if s_t is None else s_t.value, None if e_t is None else e_t.value)


def calibrate(scores: Scores, rule: DecisionRule, calibration: str) -> dict[str, Threshold]:
    """Thresholds for both levels from the scores of the calibration part."""
    out = {"sample": threshold_of(scores.sample, rule, "sample", calibration)}
    if scores.local is not None and scores.local:
        pooled = np.concatenate([np.asarray(a, dtype=np.float64).reshape(-1) for a in scores.local])
        out["element"] = threshold_of(pooled, rule, "element", calibration)
    return out


def pick_results(decisions: Decisions, max_items: int) -> list[int]:
    """Which samples to draw for ``omniad score``: the flagged ones by score, then the highest-scored ones
    decided normal (a quarter of the pictures, at least one: the near misses a reader checks next).

    Without decisions (a model saved without thresholds): the highest scores.
    """
    if max_items <= 0:
        return []
    s = np.asarray(decisions.scores.sample, dtype=np.float64)
    ranked = [int(i) for i in np.argsort(-s, kind="stable")]
    if decisions.sample is None:
        return ranked[:max_items]
    flagged = [i for i in ranked if decisions.sample[i] == 1]
    passed = [i for i in ranked if decisions.sample[i] == 0]
    n_passed = min(len(passed), max(1, max_items // 4))
    picked = flagged[: max_items - n_passed] + passed[:n_passed]
    rest = [i for i in flagged + passed if i not in picked]
    return picked + rest[: max_items - len(picked)]
