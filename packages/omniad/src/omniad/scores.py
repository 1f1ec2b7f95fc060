"""What a detector returns: one score per sample, optional localization scores.

Higher means more anomalous. ``local`` holds one array per sample with the shape of that
sample's localization target (pixel map at input resolution, one score per timestep, per
frame, per point, per line). ``extras`` carries method-specific per-sample arrays such as
per-variable scores of a multivariate series, so metrics and reports can use them without
the contract growing a field per method.

``decision`` is the detector's own 0/1 call per sample, for methods whose published decision
rule is part of the method (DeepLog's top-g rule, PCA's Q-statistic): F1 "at the method's
decision" is then measured on it (``core.prf_at_decision``), not on a threshold chosen
with the test labels.
"""

from __future__ import annotations

import reprlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from omniad.errors import DataError


class ScoresError(DataError):
    """Scores unfit for a metric; ``problem`` says how without naming whose, so a caller that knows
    the detector's plugin (the runner) can say whose they were."""

    def __init__(self, where: str, problem: str) -> None:
        self.problem = problem
        super().__init__(f"{where}: {problem}")


class ScoresTypeError(DataError):
    """Scores built from values that are not numbers; ``given`` says what they were (type, short repr)."""

    def __init__(self, field: str, given: str) -> None:
        self.field = field
        self.given = given
        super().__init__(f"Scores.{field} must hold numbers (one float score per sample), got {given}")


def describe(value: object) -> str:
    """A value's type and a short repr, for messages about what a component returned."""
    short = reprlib.Repr()
    short.maxlist = short.maxtuple = 3
    short.maxstring = short.maxother = 40
    if isinstance(value, np.ndarray):
        return f"a numpy array of dtype {value.dtype}, shape {value.shape}: {short.repr(value.ravel()[:3].tolist())}"
    if isinstance(value, (list, tuple)):
        kinds = sorted({type(v).__name__ for v in value})
        return f"a {type(value).__name__} of {len(value)} {'/'.join(kinds) or 'items'}: {short.repr(value)}"
    return f"a {type(value).__name__}: {short.repr(value)}"


def _numbers(value: object, field: str) -> np.ndarray:
    """``value`` as a numeric array; strings, dates and ragged nests are refused, naming what they were."""
    try:
        arr = np.asarray(value)
        if arr.dtype.kind in "biuf":
            return arr
        if arr.dtype.kind == "O" and not any(v is None for v in arr.ravel()):
            return arr.astype(np.float64)
    except (TypeError, ValueError):
        pass
    raise ScoresTypeError(field, describe(value))


@dataclass
class Scores:
    sample: np.ndarray
    local: list[np.ndarray] | None = None
    extras: dict[str, list[np.ndarray]] = field(default_factory=dict)
    decision: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.sample = np.asarray(_numbers(self.sample, "sample"), dtype=np.float64).reshape(-1)
        if self.decision is not None:
            self.decision = np.asarray(self.decision).reshape(-1)
        if self.local is not None:
            self.local = [_numbers(a, f"local[{i}]") for i, a in enumerate(self.local)]

    def __len__(self) -> int:
        return len(self.sample)

    def validate(
        self,
        n_samples: int,
        where: str,
        *,
        target_shapes: Sequence[tuple[int, ...]] | None = None,
        ids: Sequence[str] | None = None,
    ) -> Scores:
        """Reject scores that would silently corrupt a metric: wrong length, NaN, wrong shape."""

        def name(i: int) -> str:
            return str(ids[i]) if ids is not None else f"#{i}"

        if len(self.sample) != n_samples:
            raise ScoresError(
                where,
                f"returned {len(self.sample)} sample scores for {n_samples} samples; "
                "score() must return exactly one score per input sample",
            )
        bad = ~np.isfinite(self.sample)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ScoresError(
                where,
                f"sample score of {name(i)} is {self.sample[i]} "
                f"({int(bad.sum())} non-finite in total); the detector produced NaN/inf — "
                "check the input for constant or non-finite values",
            )
        if self.local is not None:
            if len(self.local) != n_samples:
                raise ScoresError(
                    where, f"returned {len(self.local)} localization maps for {n_samples} samples"
                )
            for i, arr in enumerate(self.local):
                if not np.all(np.isfinite(arr)):
                    raise ScoresError(
                        where,
                        f"localization scores of {name(i)} contain NaN/inf; "
                        "check the input for constant or non-finite values",
                    )
                if target_shapes is not None and tuple(arr.shape) != tuple(target_shapes[i]):
                    raise ScoresError(
                        where,
                        f"localization scores of {name(i)} have shape {arr.shape} but its "
                        f"ground truth has shape {tuple(target_shapes[i])}; return maps at the "
                        "resolution of the input sample",
                    )
        if self.decision is not None:
            if len(self.decision) != n_samples:
                raise ScoresError(
                    where,
                    f"returned {len(self.decision)} decisions for {n_samples} samples; "
                    "give one 0/1 decision per sample",
                )
            if not np.isin(self.decision, (0, 1)).all():
                raise ScoresError(where, "decisions must be 0 (normal) or 1 (anomalous)")
        for key, arrays in self.extras.items():
            if len(arrays) != n_samples:
                raise ScoresError(where, f"extras[{key!r}] has {len(arrays)} entries for {n_samples} samples")
        return self
