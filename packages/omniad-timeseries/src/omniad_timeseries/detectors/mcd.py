"""Sub-MCD: robust (minimum covariance determinant) Mahalanobis distance of z-normalised windows.

Semi-supervised in TSB-AD: the robust Gaussian is fitted on the training prefix and every
window of the scored series is measured against it (squared distance, as scikit-learn's
``mahalanobis``). When the MCD cannot find a support of the requested size, the fraction is
raised in steps of 0.1 (then left to scikit-learn), TSB-AD's fallback. Channels constant in
training never reach the MCD (``WindowModel`` scores their deviation); windows that are all
constant after z-normalisation (window 1) leave no covariance, and every window scores 0.
"""

from __future__ import annotations

import numpy as np

from omniad.errors import DataError
from omniad.state import Array, declare
from omniad_timeseries.detectors.params import SubMCDParams
from omniad_timeseries.detectors.windowed import WindowModel


class SubMCD(WindowModel):
    Params = SubMCDParams
    normalization = "window"
    model_state = ("location_", "precision_")
    state_spec = declare(location_=Array("wd", optional=True), precision_=Array("wd", "wd", optional=True))

    def _fit_windows(self, windows: np.ndarray) -> None:
        from sklearn.covariance import MinCovDet

        if np.ptp(windows, axis=0).max() <= 1e-12:  # constant training series: no scale to measure by
            self.location_, self.precision_ = windows[0].copy(), np.zeros((windows.shape[1], windows.shape[1]))
            return None
        fraction = self.params.support_fraction
        seed = self.seed if self.seed is not None else 0
        while True:
            try:
                mcd = MinCovDet(support_fraction=fraction, random_state=seed).fit(windows)
                break
            except ValueError as exc:
                if fraction is None:
                    raise DataError(
                        f"{self.where}: the robust covariance of the training windows is degenerate ({exc}); "
                        "use a longer or less repetitive training series, or a smaller window"
                    ) from None
                fraction = fraction + 0.1
                if fraction >= 1:
                    fraction = None
        self.location_ = mcd.location_
        self.precision_ = mcd.get_precision()
        return None

    def _score_windows(self, windows: np.ndarray) -> np.ndarray:
        centred = windows - self.location_
        return np.einsum("ij,jk,ik->i", centred, self.precision_, centred)
