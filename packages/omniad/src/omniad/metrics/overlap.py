"""Per-region overlap (PRO) curve and its normalised area, for any kind of region.

Bergmann et al. (MVTec AD, CVPR 2019 / IJCV 2021): a large defect should not outweigh many
small ones, as it does in pooled AUROC. Every ground-truth region counts once: at a
threshold, its overlap is the fraction of its elements scored above the threshold, and PRO
is the mean overlap over all regions of all samples. The false positive rate is taken over
all normal elements of all samples (normal samples included). The PRO-vs-FPR curve is
integrated with the trapezoid rule from FPR 0 to ``max_fpr`` (linearly interpolated at the
limit) and divided by ``max_fpr``, so a perfect map scores 1.

What a region is depends on the modality, so it is the caller's: 8-connected pixel
components for images (omniad-vision), grid components or neighbourhood-graph components
of anomalous points for point clouds (omniad-pointcloud). Here regions arrive already
numbered 1..R across all samples (0 = normal).

Exact, not binned: one sort of the scores gives every distinct threshold at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from omniad.errors import DataError


def pro_curve_of_regions(
    regions: Sequence[np.ndarray], maps: Sequence[np.ndarray], max_fpr: float | None = None,
    *, element: str = "element",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fpr, pro, thresholds)`` at every distinct score, highest first, starting at (0, 0, inf).

    ``regions[i]`` has the shape of ``maps[i]`` and holds region numbers 1..R (0 = normal),
    numbered across all samples. With ``max_fpr`` the curve stops at the first point beyond
    it (all that the area up to ``max_fpr`` needs): only elements scored at or above the
    background score with that rank are sorted. ``element`` names what the arrays hold
    (pixel, point) in error messages.
    """
    if len(regions) != len(maps):
        raise DataError(f"aupro: {len(regions)} masks but {len(maps)} anomaly maps")
    for i, (m, s) in enumerate(zip(regions, maps, strict=True)):
        if np.shape(m) != np.shape(s):
            raise DataError(f"aupro: sample {i}: mask shape {np.shape(m)} != map shape {np.shape(s)}")
    labels = np.concatenate([np.asarray(r).reshape(-1) for r in regions]).astype(np.int64)
    n_regions = int(labels.max()) if labels.size else 0
    if n_regions == 0:
        raise DataError(f"aupro: the ground truth has no anomalous {element}s, so AUPRO is undefined")
    scores = np.concatenate([np.asarray(s).reshape(-1) for s in maps])
    if not np.issubdtype(scores.dtype, np.floating):
        scores = scores.astype(np.float64)
    if not np.all(np.isfinite(scores)):
        raise DataError(f"aupro: {int((~np.isfinite(scores)).sum())} map values are NaN/inf; fix the detector")
    background = labels == 0
    n_background = int(background.sum())
    if n_background == 0:
        raise DataError(f"aupro: every {element} is anomalous, so the false positive rate is undefined")
    sizes = np.bincount(labels, minlength=n_regions + 1).astype(np.float64)
    present = int(np.count_nonzero(sizes[1:]))  # regions numbered but empty do not count
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
    with np.errstate(divide="ignore"):
        step_pro = np.where(sorted_labels == 0, 0.0, 1.0 / (present * sizes[sorted_labels]))
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


def aupro_of_regions(
    regions: Sequence[np.ndarray], maps: Sequence[np.ndarray], max_fpr: float = 0.3, *, element: str = "element"
) -> float:
    """Normalised area under the PRO curve for FPR in ``[0, max_fpr]`` (1 = perfect)."""
    if not 0.0 < max_fpr <= 1.0:
        raise DataError(f"aupro: max_fpr must be in (0, 1], got {max_fpr}")
    fpr, pro, _ = pro_curve_of_regions(regions, maps, max_fpr, element=element)
    return area_up_to(fpr, pro, max_fpr) / max_fpr
