"""The metric contract: ground truth split + scores in, a number (or named numbers) out.

A metric receives the whole test ``Split`` and the detector's ``Scores`` so it can use
sample labels, localization targets, severity levels or extras, whichever it measures.
Returning a dict gives several named values (the first is the headline, e.g. F1-max and
the threshold that reaches it).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from omniad.component import Component
from omniad.data import Split
from omniad.errors import DataError
from omniad.scores import Scores

MetricValue = float | dict[str, float]


class Metric(Component, ABC):
    kind: ClassVar[str] = "metric"

    @abstractmethod
    def compute(self, truth: Split, scores: Scores) -> MetricValue: ...

    def __call__(self, truth: Split, scores: Scores) -> MetricValue:
        return self.compute(truth, scores)

    # -- helpers for subclasses ---------------------------------------------------------
    def sample_arrays(self, truth: Split, scores: Scores) -> tuple[np.ndarray, np.ndarray]:
        if truth.labels is None:
            raise DataError(f"{self.where}: the test split has no sample labels")
        if len(truth.labels) != len(scores.sample):
            raise DataError(
                f"{self.where}: {len(truth.labels)} labels but {len(scores.sample)} scores; "
                "labels and scores must be aligned one to one"
            )
        return truth.labels, scores.sample

    def local_arrays(self, truth: Split, scores: Scores) -> tuple[list[np.ndarray], list[np.ndarray]]:
        if truth.targets is None:
            raise DataError(
                f"{self.where}: needs localization ground truth (masks / per-element labels) "
                "but the dataset gives none; drop this metric for this dataset"
            )
        if scores.local is None:
            raise DataError(
                f"{self.where}: needs localization scores but the detector returns only "
                "sample scores; use a sample-level metric for this detector"
            )
        if len(truth.targets) != len(scores.local):
            raise DataError(f"{self.where}: {len(truth.targets)} targets but {len(scores.local)} score maps")
        for i, (t, s) in enumerate(zip(truth.targets, scores.local, strict=True)):
            if np.shape(t) != np.shape(s):
                raise DataError(
                    f"{self.where}: sample {truth.sample_id(i)}: target shape {np.shape(t)} "
                    f"!= score shape {np.shape(s)}"
                )
        return [np.asarray(t) for t in truth.targets], [np.asarray(s) for s in scores.local]

    def pooled_local(self, truth: Split, scores: Scores) -> tuple[np.ndarray, np.ndarray]:
        """All localization elements of all samples in one pair of flat arrays (pixel AUROC style)."""
        targets, maps = self.local_arrays(truth, scores)
        y = np.concatenate([np.asarray(t).reshape(-1) > 0 for t in targets]).astype(np.int8)
        dtype = np.float32 if all(np.asarray(m).dtype == np.float32 for m in maps) else np.float64
        s = np.concatenate([np.asarray(m, dtype=dtype).reshape(-1) for m in maps])
        return y, s
