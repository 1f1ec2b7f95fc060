"""Recall at a fixed false-positive rate: "how many anomalies do we catch at a tolerable alarm rate".

Operators pick an alarm budget before they pick a detector; AUROC averages over all
budgets, including useless ones, while this metric reads the ROC curve at the one that
matters. Ties are never split: a threshold flags every sample scored at or above it.
"""

from __future__ import annotations

import numpy as np

from omniad import Metric, Scores, Split
from omniad.metric import MetricValue
from omniad.metrics import roc_curve
from omniad_plugin_template.params import RecallAtFPRParams


class RecallAtFPR(Metric):
    Params = RecallAtFPRParams

    def compute(self, truth: Split, scores: Scores) -> MetricValue:
        labels, sample_scores = self.sample_arrays(truth, scores)
        # roc_curve validates (NaN, both classes present) and starts at "flag nothing".
        fpr, tpr, thresholds = roc_curve(labels, sample_scores)
        # fpr never decreases along the curve: the last admissible point has the best recall.
        best = int(np.flatnonzero(fpr <= self.params.max_fpr)[-1])
        # "Flag nothing" has threshold inf; report the smallest finite value that flags nothing.
        threshold = thresholds[best] if best else np.nextafter(sample_scores.max(), np.inf)
        return {"recall": float(tpr[best]), "fpr": float(fpr[best]), "threshold": float(threshold)}
