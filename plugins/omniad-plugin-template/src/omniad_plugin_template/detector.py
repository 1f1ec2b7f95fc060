"""A robust z-score detector: how many robust standard deviations each feature is off.

Median and MAD are barely moved by a few anomalies hiding in the training data, unlike
mean and standard deviation, and a per-feature score says *which* feature is odd, which
the detector returns in ``Scores.extras["feature_z"]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from omniad import Detector, Scores
from omniad.errors import DataError
from omniad.state import Array, declare
from omniad.tabular import as_matrix
from omniad_plugin_template.params import RobustZScoreParams

#: MAD * 1.4826 estimates the standard deviation of normally distributed data.
MAD_TO_STD = 1.4826
#: mean absolute deviation * 1.2533 does the same; used where more than half the values tie.
MEAN_AD_TO_STD = 1.2533


class RobustZScore(Detector):
    """Fit: per-feature median and robust scale. Score: aggregated |x - median| / scale."""

    Params = RobustZScoreParams
    # Everything ``_fit`` learns, so ``save``/``load`` restore the detector without pickle ...
    state_attributes = ("median_", "scale_")
    # ... and what each entry must look like: ``load`` checks a saved folder against this
    # before using it. Two finite float vectors sharing one length "d" (the feature count).
    state_spec = declare(median_=Array("d"), scale_=Array("d"))

    def check_state(self, state: dict[str, Any]) -> None:
        """What a declaration cannot say: ``_fit`` never makes a scale below ``min_scale``."""
        if np.any(state["scale_"] < self.params.min_scale):
            raise DataError(f"{self.where}.load: saved 'scale_' has values below min_scale="
                            f"{self.params.min_scale}; the folder was edited, re-save the model")

    def _fit(self, samples: Sequence[Any]) -> None:
        x = as_matrix(samples, f"{self.where}.fit")
        self.median_ = np.median(x, axis=0)
        deviation = np.abs(x - self.median_)
        scale = MAD_TO_STD * np.median(deviation, axis=0)
        # Binary or heavily tied features have MAD 0 although they vary: fall back to the
        # mean absolute deviation; only a feature that never varied gets min_scale.
        tied = scale == 0
        scale[tied] = MEAN_AD_TO_STD * deviation[:, tied].mean(axis=0)
        self.scale_ = np.maximum(scale, self.params.min_scale)

    def _score(self, samples: Sequence[Any]) -> Scores:
        x = as_matrix(samples, f"{self.where}.score", n_features=self.median_.shape[0])
        z = np.abs(x - self.median_) / self.scale_
        if self.params.aggregate == "max":
            sample = z.max(axis=1)
        elif self.params.aggregate == "mean":
            sample = z.mean(axis=1)
        else:
            sample = np.sqrt(np.mean(z**2, axis=1))
        return Scores(sample=sample, extras={"feature_z": list(z)})
