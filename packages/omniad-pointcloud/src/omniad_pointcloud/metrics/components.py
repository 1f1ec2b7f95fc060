"""Point cloud metric components. Point AUROC is the core's pooled ``core.local_auroc``."""

from __future__ import annotations

from pydantic import Field

from omniad.data import Split
from omniad.errors import DataError
from omniad.metric import Metric, MetricValue
from omniad.metrics.overlap import aupro_of_regions
from omniad.params import Params
from omniad.scores import Scores
from omniad_pointcloud.metrics.regions import numbered_regions


class AUPROParams(Params):
    max_fpr: float = Field(default=0.3, gt=0, le=1, description="integrate the PRO curve up to this FPR")


class PointAUPRO(Metric):
    Params = AUPROParams

    def compute(self, truth: Split, scores: Scores) -> MetricValue:
        targets, maps = self.local_arrays(truth, scores)
        if len(truth.samples) != len(targets):
            raise DataError(f"{self.where}: {len(truth.samples)} clouds but {len(targets)} targets")
        regions = numbered_regions(list(truth.samples), targets)
        return aupro_of_regions(regions, maps, self.params.max_fpr, element="point")
