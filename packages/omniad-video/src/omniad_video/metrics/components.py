"""Video metric components. Frame AUROC micro and AP are the core's pooled ``core.local_auroc``
and ``core.local_aupr`` (all frames of all videos concatenated, as UCF-Crime and XD-Violence
report them); only the per-video and event-level views live here."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from omniad import metrics as M
from omniad.data import Split
from omniad.errors import DataError
from omniad.metric import Metric, MetricValue
from omniad.params import Params
from omniad.scores import Scores
from omniad_video.metrics.delay import detection_delay


class FrameAUROCMacro(Metric):
    """Mean over videos of each video's frame AUROC; videos with one class only are left out
    (their AUROC is undefined) and the number used is reported beside the mean."""

    def compute(self, truth: Split, scores: Scores) -> MetricValue:
        targets, maps = self.local_arrays(truth, scores)
        values = [M.roc_auc(np.asarray(t).reshape(-1), np.asarray(s).reshape(-1))
                  for t, s in zip(targets, maps, strict=True) if 0 < np.asarray(t).sum() < np.asarray(t).size]
        if not values:
            raise DataError(f"{self.where}: no test video has both normal and anomalous frames, so no per-video AUROC")
        return {"auroc_macro": float(np.mean(values)), "videos_used": float(len(values))}


class DelayParams(Params):
    normal_quantile: float = Field(default=0.99, gt=0, lt=1, description="alarm threshold: this quantile of normal frames' scores")
    threshold: float | None = Field(default=None, description="a fixed alarm threshold instead of the quantile")


class DetectionDelay(Metric):
    Params = DelayParams

    def compute(self, truth: Split, scores: Scores) -> MetricValue:
        targets, maps = self.local_arrays(truth, scores)
        return detection_delay(targets, maps, threshold=self.params.threshold,
                               normal_quantile=self.params.normal_quantile)
