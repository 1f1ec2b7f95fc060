"""Time-series metrics: VUS, range-based, event-wise, affiliation and point-adjusted F1.

Array functions work on one series (labels ``(T,)`` 0/1, scores ``(T,)``); the registered
components in ``components.py`` apply them per test series and average. Importing this
package pulls in numpy only.
"""

from omniad_timeseries.metrics.affiliation import affiliation_precision_recall
from omniad_timeseries.metrics.event_f1 import event_curve, event_precision_recall
from omniad_timeseries.metrics.point_adjust import (
    adjust_predictions,
    adjusted_scores,
    pa_k_curve,
    pa_k_precision_recall,
)
from omniad_timeseries.metrics.range_based import range_precision_recall
from omniad_timeseries.metrics.thresholding import thresholded
from omniad_timeseries.metrics.vus import vus, vus_pr, vus_roc

__all__ = [
    "adjust_predictions",
    "adjusted_scores",
    "affiliation_precision_recall",
    "event_curve",
    "event_precision_recall",
    "pa_k_curve",
    "pa_k_precision_recall",
    "range_precision_recall",
    "thresholded",
    "vus",
    "vus_pr",
    "vus_roc",
]
