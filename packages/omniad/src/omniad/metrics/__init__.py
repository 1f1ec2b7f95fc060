"""Core metric functions on plain arrays (the registered metric components wrap these).

Implemented in numpy, sorting once, and checked against scikit-learn to 1e-9 in the tests;
the core does not depend on scikit-learn so that it stays a small install.
"""

from omniad.metrics.ranking import average_precision, binary_curve, roc_auc, roc_curve
from omniad.metrics.severity import severity_correlation
from omniad.metrics.thresholds import (
    best_f1,
    precision_recall_f1,
    quantile_threshold,
)

__all__ = [
    "average_precision",
    "best_f1",
    "binary_curve",
    "precision_recall_f1",
    "quantile_threshold",
    "roc_auc",
    "roc_curve",
    "severity_correlation",
]
