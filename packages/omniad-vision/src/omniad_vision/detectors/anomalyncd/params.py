"""AnomalyNCD parameters (pydantic only: imported by discovery)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from omniad_vision.detectors.anomalydino.params import ReferenceParams


class Params(ReferenceParams):
    n_classes: int | None = Field(
        default=None, ge=2,
        description="anomaly classes to discover; None = the count in 2..max_classes with the best silhouette",
    )
    max_classes: int = Field(default=8, ge=2, description="largest class count tried when n_classes is None")
    binarize_levels: int = Field(
        default=32, ge=4, description="thresholds swept by the main-element binarisation of each anomaly map"
    )
    embedding: Literal["residual", "token", "both"] = Field(
        default="both",
        description="region descriptor: mean of (token - its nearest normal token) over the main element, the mean "
        "token there, or both concatenated",
    )
