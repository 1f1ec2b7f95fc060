"""Parameter models of the template's components.

They live apart from the implementations because omniad imports a card's ``params``
target to validate a run configuration and to print ``omniad show``; this module must
therefore import nothing heavier than pydantic, even when the detector itself needs torch.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from omniad import Params


class RobustZScoreParams(Params):
    aggregate: Literal["max", "mean", "rms"] = Field(
        default="max",
        description="how per-feature z-scores become one score: max flags a single wild feature, "
        "mean and rms reward many moderately odd features",
    )
    min_scale: float = Field(
        default=1e-9,
        gt=0,
        description="scale used for features that never varied in training, so any change there "
        "scores very high instead of dividing by zero",
    )


class SparseShiftParams(Params):
    n_train: int = Field(default=400, ge=2, description="normal training vectors per subset")
    n_test_normal: int = Field(default=200, ge=1)
    n_test_anomalous: int = Field(default=40, ge=1)
    n_features: int = Field(default=16, ge=1)
    n_shifted: int = Field(default=2, ge=1, description="features an anomaly moves (the rest stay normal)")
    shifts: tuple[float, ...] = Field(
        default=(3.0, 6.0),
        min_length=1,
        description="one subset per value: anomalies move by shift to 2*shift standard deviations",
    )
    correlation: float = Field(default=0.5, ge=0, lt=1, description="correlation between neighbouring features")
    seed: int = 0

    @field_validator("shifts")
    @classmethod
    def _positive_shifts(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(s <= 0 for s in value):
            raise ValueError("every shift must be > 0 standard deviations")
        if len(set(value)) != len(value):
            raise ValueError("shifts must be distinct (each one names a subset)")
        return value


class RecallAtFPRParams(Params):
    max_fpr: float = Field(
        default=0.05,
        ge=0,
        lt=1,
        description="largest tolerated share of normal samples flagged as anomalous",
    )
