"""Metric components: the array functions applied per test series, then averaged.

Like TSB-AD, every series is scored on its own and the values are averaged with equal
weight per series (a subset holding several series does not pool their timesteps, which
would let one long series dominate and would join ranges across series ends). Series
whose labels hold no anomaly, or nothing but anomalies, have no defined value and are
left out of the average; if no series is left the metric raises ``DataError``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from omniad.data import Split
from omniad.errors import DataError
from omniad.metric import Metric, MetricValue
from omniad.scores import Scores
from omniad_timeseries.metrics.affiliation import affiliation_precision_recall
from omniad_timeseries.metrics.event_f1 import event_curve, event_precision_recall
from omniad_timeseries.metrics.params import (
    GridThresholdParams,
    PAKParams,
    RangeF1Params,
    ThresholdParams,
    VUSParams,
)
from omniad_timeseries.metrics.point_adjust import pa_k_curve, pa_k_precision_recall
from omniad_timeseries.metrics.range_based import range_precision_recall
from omniad_timeseries.metrics.ranges import check_series
from omniad_timeseries.metrics.thresholding import thresholded
from omniad_timeseries.metrics.vus import check_auto_window_input, vus
from omniad_timeseries.periodicity import find_length_rank

PA_K_GRID = np.linspace(0.0, 100.0, 11)


class SeriesMetric(Metric):
    """Base: per-series ``evaluate(y, s, index)`` -> dict, averaged over the usable series."""

    def evaluate(self, truth: Split, index: int, y: np.ndarray, s: np.ndarray) -> dict[str, float]:
        raise NotImplementedError

    def series(self, truth: Split, scores: Scores) -> list[tuple[int, np.ndarray, np.ndarray]]:
        targets, maps = self.local_arrays(truth, scores)
        usable = []
        for i, (target, local) in enumerate(zip(targets, maps, strict=True)):
            where = f"{self.where}, series {truth.sample_id(i)}"
            if target.ndim != 1:
                raise DataError(
                    f"{where}: expects one label per timestep (shape (T,)), got {target.shape}; "
                    "time-series metrics need per-timestep targets"
                )
            if not np.all(np.isfinite(np.asarray(local, dtype=np.float64))):
                raise DataError(f"{where}: scores contain NaN/inf; fix the detector or its input")
            n_anom = int(np.sum(target > 0))
            if 0 < n_anom < target.size:
                usable.append((i, *check_series(target, local, where)))
        if not usable:
            raise DataError(
                f"{self.where}: no test series has both anomalous and normal timesteps, so the "
                "metric is undefined; evaluate it on series with labelled anomalies"
            )
        return usable

    def compute(self, truth: Split, scores: Scores) -> MetricValue:
        values = [self.evaluate(truth, i, y, s) for i, y, s in self.series(truth, scores)]
        return {key: float(np.mean([v[key] for v in values])) for key in values[0]}


class _VUS(SeriesMetric):
    Params = VUSParams
    key: ClassVar[str]

    def window_for(self, truth: Split, index: int, length: int) -> int:
        if self.params.window != "auto":
            return int(self.params.window)
        where = f"{self.where}, series {truth.sample_id(index)}"
        x = check_auto_window_input(truth.samples[index], length, where)
        return find_length_rank(x if x.ndim == 1 else x[:, 0], rank=1)

    def evaluate(self, truth: Split, index: int, y: np.ndarray, s: np.ndarray) -> dict[str, float]:
        window = self.window_for(truth, index, y.size)
        value = vus(y, s, window, self.params.n_thresholds)[self.key]
        return {self.key: value, "window": float(window)}


class VUSPR(_VUS):
    key = "vus_pr"


class VUSROC(_VUS):
    key = "vus_roc"


class _ThresholdF1(SeriesMetric):
    """F1 at ``params.threshold`` of ``from_predictions``; exact sweep when ``curve`` is given."""

    def from_predictions(self, y: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
        raise NotImplementedError

    curve: Callable[..., Any] | None = None

    def evaluate(self, truth: Split, index: int, y: np.ndarray, s: np.ndarray) -> dict[str, float]:
        return thresholded(
            y,
            s,
            self.params.threshold,
            self.from_predictions,
            exact_curve=self.curve,
            max_thresholds=getattr(self.params, "max_thresholds", None),
            where=self.where,
        )


class RangeF1(_ThresholdF1):
    Params = RangeF1Params

    def from_predictions(self, y: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
        p = self.params
        return range_precision_recall(
            y, pred, alpha=p.alpha, cardinality=p.cardinality,
            recall_bias=p.recall_bias, precision_bias=p.precision_bias,
        )


class EventF1(_ThresholdF1):
    Params = ThresholdParams
    curve = staticmethod(event_curve)

    def from_predictions(self, y: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
        return event_precision_recall(y, pred)


class AffiliationF1(_ThresholdF1):
    Params = GridThresholdParams

    def from_predictions(self, y: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
        return affiliation_precision_recall(y, pred)


class PointAdjustedF1(_ThresholdF1):
    Params = ThresholdParams
    curve = staticmethod(pa_k_curve)

    def from_predictions(self, y: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
        return pa_k_precision_recall(y, pred, 0.0)


class PAKF1(SeriesMetric):
    """F1 after PA%K at one K, or its area over K (each K with its own oracle when 'best')."""

    Params = PAKParams

    def at_k(self, y: np.ndarray, s: np.ndarray, k: float) -> dict[str, float]:
        return thresholded(
            y, s, self.params.threshold,
            lambda yy, pred: pa_k_precision_recall(yy, pred, k),
            exact_curve=lambda yy, ss: pa_k_curve(yy, ss, k),
            where=self.where,
        )

    def evaluate(self, truth: Split, index: int, y: np.ndarray, s: np.ndarray) -> dict[str, float]:
        if self.params.k != "auc":
            return self.at_k(y, s, float(self.params.k))
        f1 = np.array([self.at_k(y, s, k)["f1"] for k in PA_K_GRID])
        area = float(np.sum(np.diff(PA_K_GRID) * (f1[1:] + f1[:-1]) / 2) / 100.0)
        return {"f1_auc": area, "f1_k0": float(f1[0]), "f1_k100": float(f1[-1])}
