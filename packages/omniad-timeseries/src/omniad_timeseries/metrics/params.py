"""Parameter models of the time-series metrics (pydantic only: imported by ``omniad list``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from omniad.params import Params

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
Bias = Literal["flat", "front", "back", "middle"]


class VUSParams(Params):
    window: Annotated[int, Field(ge=0)] | Literal["auto"] = Field(
        default="auto",
        description="buffer length: VUS averages over buffers 0..window; 'auto' = TSB-AD's "
        "find_length_rank(series, rank=1) of each test series (first channel if multivariate)",
    )
    n_thresholds: int = Field(
        default=250, ge=1, description="thresholds per curve, at evenly spaced score ranks (TSB-AD: 250)"
    )


class ThresholdParams(Params):
    threshold: FiniteFloat | Literal["best"] = Field(
        default="best",
        description="score >= threshold is anomalous; 'best' = oracle threshold with the highest F1 "
        "per series (an upper bound, reported with the threshold it used)",
    )


class GridThresholdParams(ThresholdParams):
    max_thresholds: int = Field(
        default=100, ge=2, description="with threshold='best': candidates at evenly spaced score ranks"
    )


class RangeF1Params(GridThresholdParams):
    alpha: float = Field(default=0.2, ge=0.0, le=1.0, description="weight of the existence reward in recall")
    cardinality: Literal["one", "reciprocal"] = Field(
        default="reciprocal", description="penalty when a range overlaps several ranges of the other side"
    )
    recall_bias: Bias = Field(default="flat", description="positional bias inside true ranges")
    precision_bias: Bias = Field(default="flat", description="positional bias inside predicted ranges")


class PAKParams(ThresholdParams):
    k: Annotated[float, Field(ge=0.0, le=100.0)] | Literal["auc"] = Field(
        default="auc",
        description="adjust a range only when more than K % of it is flagged; 'auc' = area under "
        "F1 over K = 0, 10, ..., 100 divided by 100 (Kim et al.'s K-free summary)",
    )
