"""Parameters of MIL ranking; defaults are the paper's (Adagrad 0.001, lambda 8e-5, dropout 0.6)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from omniad.params import Params


class MILParams(Params):
    hidden: tuple[int, int] = Field(default=(512, 32), description="widths of the two hidden layers")
    dropout: float = Field(default=0.6, ge=0, lt=1)
    smoothness: float = Field(default=8e-5, ge=0, description="lambda1: temporal smoothness of segment scores")
    sparsity: float = Field(default=8e-5, ge=0, description="lambda2: sparsity of anomalous-video scores")
    optimizer: Literal["adagrad", "adam"] = "adagrad"
    lr: float = Field(default=1e-3, gt=0)
    weight_decay: float = Field(default=1e-3, ge=0)
    iterations: int = Field(default=1000, ge=1, description="training steps (the paper: 20,000 on UCF-Crime)")
    batch_size: int = Field(default=30, ge=1, description="anomalous and normal videos per step (each)")
