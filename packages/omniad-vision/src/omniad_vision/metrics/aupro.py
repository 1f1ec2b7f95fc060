"""AUPRO on images: regions are 8-connected components of the pixel masks.

The curve and its area are the core's (``omniad.metrics.overlap``, shared with point
clouds); what is image-specific is what a region is: an 8-connected pixel component, as
MVTec's reference code and anomalib use. anomalib 2.7 computes the same curve in torch
float32; its value agrees with this one to about 1e-6, see
``tests/test_vision_metrics_aupro.py`` and ``docs/metrics.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from omniad.errors import DataError
from omniad.metrics.overlap import area_up_to, pro_curve_of_regions

__all__ = ["EIGHT_CONNECTED", "area_up_to", "aupro", "label_regions", "pro_curve"]

EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


def label_regions(masks: Sequence[np.ndarray]) -> tuple[list[np.ndarray], int]:
    """Connected components of every mask, numbered 1..R across all masks (0 = normal)."""
    from scipy import ndimage

    out, offset = [], 0
    for mask in masks:
        labels, n = ndimage.label(np.asarray(mask) > 0, structure=EIGHT_CONNECTED)
        out.append(np.where(labels > 0, labels + offset, 0).astype(np.int32))
        offset += n
    return out, offset


def pro_curve(
    masks: Sequence[np.ndarray], maps: Sequence[np.ndarray], max_fpr: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fpr, pro, thresholds)`` at every distinct score, highest first, starting at (0, 0, inf)."""
    if len(masks) != len(maps):
        raise DataError(f"aupro: {len(masks)} masks but {len(maps)} anomaly maps")
    for i, (m, s) in enumerate(zip(masks, maps, strict=True)):
        if np.shape(m) != np.shape(s):
            raise DataError(f"aupro: sample {i}: mask shape {np.shape(m)} != map shape {np.shape(s)}")
    regions, _ = label_regions(masks)
    return pro_curve_of_regions(regions, maps, max_fpr, element="pixel")


def aupro(masks: Sequence[np.ndarray], maps: Sequence[np.ndarray], max_fpr: float = 0.3) -> float:
    """Normalised area under the PRO curve for FPR in ``[0, max_fpr]`` (1 = perfect)."""
    if not 0.0 < max_fpr <= 1.0:
        raise DataError(f"aupro: max_fpr must be in (0, 1], got {max_fpr}")
    fpr, pro, _ = pro_curve(masks, maps, max_fpr)
    return area_up_to(fpr, pro, max_fpr) / max_fpr
