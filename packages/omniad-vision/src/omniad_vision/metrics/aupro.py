"""AUPRO: area under the per-region-overlap curve up to a false-positive-rate limit.

Bergmann et al. (MVTec AD, CVPR 2019 / IJCV 2021): a large defect should not outweigh many
small ones, as it does in pixel AUROC. Every connected ground-truth region (8-connectivity,
as MVTec's reference code and anomalib use) counts once: at a threshold, its overlap is the
fraction of its pixels scored above the threshold, and PRO is the mean overlap over all
regions of all images. The false positive rate is taken over all normal pixels of all
images (normal images included). The PRO-vs-FPR curve is integrated with the trapezoid
rule from FPR 0 to ``max_fpr`` (linearly interpolated at the limit) and divided by
``max_fpr``, so a perfect map scores 1.

Exact, not binned: one sort of all pixel scores gives every distinct threshold at once
(anomalib 2.7 computes the same curve in torch float32; its value agrees with this one to
about 1e-6, see ``tests/test_vision_metrics_aupro.py`` and ``docs/metrics.md``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from omniad.errors import DataError

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
    """``(fpr, pro, thresholds)`` at every distinct score, highest first, starting at (0, 0, inf).

    With ``max_fpr`` the curve stops at the first point beyond it (all that the area up to
    ``max_fpr`` needs): only pixels scored at or above the background score with that rank
    are sorted, about ``max_fpr`` of the image instead of all of it.
    """
    if len(masks) != len(maps):
        raise DataError(f"aupro: {len(masks)} masks but {len(maps)} anomaly maps")
    for i, (m, s) in enumerate(zip(masks, maps, strict=True)):
        if np.shape(m) != np.shape(s):
            raise DataError(f"aupro: sample {i}: mask shape {np.shape(m)} != map shape {np.shape(s)}")
    regions, n_regions = label_regions(masks)
    if n_regions == 0:
        raise DataError("aupro: the ground truth has no anomalous pixels, so AUPRO is undefined")
    labels = np.concatenate([r.reshape(-1) for r in regions])
    scores = np.concatenate([np.asarray(s).reshape(-1) for s in maps])
    if not np.issubdtype(scores.dtype, np.floating):
        scores = scores.astype(np.float64)
    if not np.all(np.isfinite(scores)):
        raise DataError(f"aupro: {int((~np.isfinite(scores)).sum())} map values are NaN/inf; fix the detector")
    background = labels == 0
    n_background = int(background.sum())
    if n_background == 0:
        raise DataError("aupro: every pixel is anomalous, so the false positive rate is undefined")
    sizes = np.bincount(labels, minlength=n_regions + 1).astype(np.float64)
    if max_fpr is not None and int(max_fpr * n_background) < n_background:
        rank = int(max_fpr * n_background)  # the (rank+1)-th highest background score ends the curve
        cut = np.partition(scores[background], n_background - rank - 1)[n_background - rank - 1]
        keep = scores >= cut
        labels, scores, background = labels[keep], scores[keep], background[keep]
    order = np.argsort(-scores, kind="stable")
    s = scores[order]
    sorted_labels = labels[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]  # last index of each tie group
    fpr = np.minimum(np.cumsum(background[order])[last] / n_background, 1.0)
    step_pro = np.where(sorted_labels == 0, 0.0, 1.0 / (n_regions * sizes[sorted_labels]))
    pro = np.minimum(np.cumsum(step_pro)[last], 1.0)
    return np.r_[0.0, fpr], np.r_[0.0, pro], np.r_[np.inf, s[last]]


def area_up_to(x: np.ndarray, y: np.ndarray, limit: float) -> float:
    """Trapezoid area under a curve with non-decreasing ``x`` from ``x[0]`` to ``limit``."""
    keep = x <= limit
    xs, ys = x[keep], y[keep]
    if xs[-1] < limit and keep.sum() < x.size:
        j = int(keep.sum())  # first point beyond the limit
        t = (limit - x[j - 1]) / (x[j] - x[j - 1])
        xs = np.r_[xs, limit]
        ys = np.r_[ys, y[j - 1] + t * (y[j] - y[j - 1])]
    return float(np.sum(np.diff(xs) * (ys[1:] + ys[:-1]) / 2.0))


def aupro(masks: Sequence[np.ndarray], maps: Sequence[np.ndarray], max_fpr: float = 0.3) -> float:
    """Normalised area under the PRO curve for FPR in ``[0, max_fpr]`` (1 = perfect)."""
    if not 0.0 < max_fpr <= 1.0:
        raise DataError(f"aupro: max_fpr must be in (0, 1], got {max_fpr}")
    fpr, pro, _ = pro_curve(masks, maps, max_fpr)
    return area_up_to(fpr, pro, max_fpr) / max_fpr
