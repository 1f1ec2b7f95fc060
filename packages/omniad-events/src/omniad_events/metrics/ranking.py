"""Operating-point metrics of alert triage: precision in the top k, recall at a fixed false-positive rate,
and detection rate per attack category at that rate.

An analyst reads the top of the ranking, and an IDS runs at a fixed false-alarm budget, so
these say more than AUROC about a detector in use. Ties are handled so that the value never
depends on the order of equal scores (and so is unchanged by any increasing transform):
precision@k takes the tied group at the cut in proportion, the FPR threshold is the lowest
score whose alarms keep FPR <= ``fpr``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from pydantic import Field

from omniad.data import Split
from omniad.errors import DataError
from omniad.metric import Metric, MetricValue
from omniad.metrics.ranking import binary_curve, check_binary_scores
from omniad.params import Params
from omniad.scores import Scores


def precision_at_k(y: Any, s: Any, k: int | None = None) -> float:
    """Share of anomalies among the k top scores (k = number of anomalies when None: R-precision)."""
    y, s = check_binary_scores(y, s, "precision_at_k")
    k = int(y.sum()) if k is None else min(int(k), len(y))
    order = np.argsort(-s, kind="stable")
    cut = s[order[k - 1]]
    above = s > cut
    tied = s == cut
    take = k - int(above.sum())  # how many of the tied group fall inside the top k
    hits = float(y[above].sum()) + take * float(y[tied].mean())
    return hits / k


def threshold_at_fpr(y: np.ndarray, s: np.ndarray, fpr: float) -> tuple[float, float, float]:
    """(threshold, recall, achieved FPR): alarms at score >= threshold, the most recall with FPR <= fpr."""
    fps, tps, thr = binary_curve(y, s)
    fp_rate, tp_rate = fps / fps[-1], tps / tps[-1]
    ok = np.flatnonzero(fp_rate <= fpr + 1e-12)
    if ok.size == 0:  # even the top score's alarms exceed the budget: raise no alarm
        return float("inf"), 0.0, 0.0
    i = int(ok[-1])
    return float(thr[i]), float(tp_rate[i]), float(fp_rate[i])


class FPRParams(Params):
    fpr: float = Field(
        default=0.05, gt=0, lt=1, description="false-positive rate budget on the normal samples"
    )


class KParams(Params):
    k: int | None = Field(default=None, ge=1, description="top k scores read; None = the number of anomalies")


class PrecisionAtK(Metric):
    Params = KParams

    def compute(self, truth: Split, scores: Scores) -> MetricValue:
        return precision_at_k(*self.sample_arrays(truth, scores), self.params.k)


class RecallAtFPR(Metric):
    Params = FPRParams

    def compute(self, truth: Split, scores: Scores) -> MetricValue:
        y, s = check_binary_scores(*self.sample_arrays(truth, scores), self.where)
        threshold, recall, achieved = threshold_at_fpr(y, s, self.params.fpr)
        return {"recall": recall, "fpr": achieved, "threshold": threshold}


class CategoryRecall(Metric):
    """Detection rate of each named category at the threshold giving ``fpr`` on the normal samples."""

    Params = FPRParams

    def compute(self, truth: Split, scores: Scores) -> MetricValue:
        y, s = check_binary_scores(*self.sample_arrays(truth, scores), self.where)
        cats = truth.meta.get("categories")
        if cats is None:
            raise DataError(
                f"{self.where}: the dataset names no category per test sample (Split.meta['categories']);"
                " drop this metric for it"
            )
        if len(cats) != len(y):
            raise DataError(
                f"{self.where}: {len(cats)} categories for {len(y)} test samples; they must align"
            )
        threshold, recall, _ = threshold_at_fpr(y, s, self.params.fpr)
        hit = s >= threshold
        names = sorted({str(c) for c, lab in zip(cats, y, strict=True) if lab})
        out = {"mean": 0.0, "all": recall}
        per = {}
        total = Counter(str(c) for c, lab in zip(cats, y, strict=True) if lab)
        for name in names:
            rows = np.fromiter(
                (str(c) == name and lab for c, lab in zip(cats, y, strict=True)), dtype=bool, count=len(y)
            )
            per[name] = float(hit[rows].sum()) / total[name]
        out["mean"] = float(np.mean(list(per.values())))
        out.update(per)
        return out
