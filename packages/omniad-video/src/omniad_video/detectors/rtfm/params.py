"""Parameters of the RTFM-style detector (RTFM's defaults where they apply: k=3, margin 100)."""

from __future__ import annotations

from pydantic import Field

from omniad.params import Params


class RTFMParams(Params):
    hidden: int = Field(default=512, ge=8, description="width of the temporal block and the classifier")
    k: int = Field(default=3, ge=1, description="top-k segments by feature magnitude")
    margin: float = Field(default=100.0, gt=0, description="feature-magnitude margin between anomalous and normal videos")
    alpha: float = Field(default=1e-4, ge=0, description="weight of the magnitude loss")
    smoothness: float = Field(default=8e-4, ge=0)
    sparsity: float = Field(default=8e-3, ge=0)
    dropout: float = Field(default=0.7, ge=0, lt=1)
    lr: float = Field(default=1e-3, gt=0)
    weight_decay: float = Field(default=5e-4, ge=0)
    iterations: int = Field(default=500, ge=1)
    batch_size: int = Field(default=16, ge=1, description="anomalous and normal videos per step (each)")
