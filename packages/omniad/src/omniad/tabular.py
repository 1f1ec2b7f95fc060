"""Feature-vector ("tabular") samples: the modality of embeddings and classic outlier data.

Text embeddings, log-session counts and PyOD-style tables all end up here, so the one
validation routine lives in the core.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from omniad.errors import DataError


def as_matrix(samples: Sequence[Any] | np.ndarray, where: str, *, n_features: int | None = None) -> np.ndarray:
    """Samples as a finite float matrix (n_samples, n_features), or a clear ``DataError``."""
    try:
        x = np.asarray(samples, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"{where}: samples must be numeric feature vectors of equal length ({exc}); "
            "encode non-numeric columns first"
        ) from None
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    if x.ndim != 2:
        raise DataError(f"{where}: expected one 1-D feature vector per sample, got array of shape {x.shape}")
    if x.shape[0] == 0:
        raise DataError(f"{where}: no samples")
    if not np.all(np.isfinite(x)):
        rows = np.flatnonzero(~np.isfinite(x).all(axis=1))
        raise DataError(
            f"{where}: {rows.size} samples contain NaN/inf (first: row {int(rows[0])}); "
            "impute or drop them before detection"
        )
    if n_features is not None and x.shape[1] != n_features:
        raise DataError(
            f"{where}: samples have {x.shape[1]} features but the detector was fitted on {n_features}"
        )
    return x
