"""Core metric components: image/sample-level and pooled localization ranking metrics."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from omniad import metrics as M
from omniad.data import Split
from omniad.metric import Metric, MetricValue
from omniad.params import Params
from omniad.scores import Scores


class AUROC(Metric):
    def compute(self, truth: Split, scores: Scores) -> MetricValue:
        return M.roc_auc(*self.sample_arrays(truth, scores))


class AUPR(Metric):
    def compute(self, truth: Split, scores: Scores) -> MetricValue:
        return M.average_precision(*self.sample_arrays(truth, scores))


class F1Max(Metric):
    def compute(self, truth: Split, scores: Scores) -> MetricValue:
        f1, threshold = M.best_f1(*self.sample_arrays(truth, scores))
        return {"f1_max": f1, "threshold": threshold}


class ThresholdParams(Params):
    threshold: float = Field(description="scores >= threshold are called anomalous")


class PRFAtThreshold(Metric):
    Params = ThresholdParams

    def compute(self, truth: Split, scores: Scores) -> MetricValue:
        p, r, f1 = M.precision_recall_f1(*self.sample_arrays(truth, scores), self.params.threshold)
        return {"f1": f1, "precision": p, "recall": r}


class PRFAtDecision(Metric):
    """Precision, recall and F1 of the detector's own decisions: no test label picks a threshold."""

    def compute(self, truth: Split, scores: Scores) -> MetricValue:
        labels, _ = self.sample_arrays(truth, scores)
        if scores.decision is None:
            from omniad.errors import DataError

            raise DataError(
                f"{self.where}: the detector makes no decision of its own (Scores.decision is empty); "
                "use core.f1_max or core.prf_at_threshold for it"
            )
        p, r, f1 = M.precision_recall_f1(labels, scores.decision.astype(np.float64), 0.5)
        return {"f1": f1, "precision": p, "recall": r}


class SeveritySpearman(Metric):
    def compute(self, truth: Split, scores: Scores) -> MetricValue:
        if truth.severity is None:
            from omniad.errors import DataError

            raise DataError(f"{self.where}: the dataset gives no severity levels; drop this metric for it")
        return M.severity_correlation(truth.severity, scores.sample)


class LocalAUROC(Metric):
    def compute(self, truth: Split, scores: Scores) -> MetricValue:
        return M.roc_auc(*self.pooled_local(truth, scores))


class LocalAUPR(Metric):
    def compute(self, truth: Split, scores: Scores) -> MetricValue:
        return M.average_precision(*self.pooled_local(truth, scores))


class LocalF1Max(Metric):
    def compute(self, truth: Split, scores: Scores) -> MetricValue:
        f1, threshold = M.best_f1(*self.pooled_local(truth, scores))
        return {"f1_max": f1, "threshold": threshold}
