"""Vision metric components (wrapping the array functions for the runner)."""

from __future__ import annotations

from pydantic import Field

from omniad.data import Split
from omniad.metric import Metric, MetricValue
from omniad.params import Params
from omniad.scores import Scores
from omniad_vision.metrics.aupro import aupro


class AUPROParams(Params):
    max_fpr: float = Field(default=0.3, gt=0, le=1, description="integrate the PRO curve up to this FPR")


class AUPRO(Metric):
    Params = AUPROParams

    def compute(self, truth: Split, scores: Scores) -> MetricValue:
        targets, maps = self.local_arrays(truth, scores)
        return aupro(targets, maps, self.params.max_fpr)
