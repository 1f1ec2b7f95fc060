"""Report pictures: the most telling test clouds, coloured by point score, the true defect outlined.

Chosen as the image datasets choose theirs (``omniad.dataset.pick_examples``): the top-scored
anomaly, the top false alarm, the worst-missed anomaly, and so on. A free cloud is drawn in two
orthographic projections (top, x-y, and side, x-z; far points first so the near surface is
what one sees), the points of
the true defect ringed; an organised scan (MVTec 3D-AD) is drawn as its score image with the
defect's outline as a contour. One colour scale for all pictures of a subset, so they can be
compared. matplotlib is imported only here; without it there are no pictures and one warning
says why.

:func:`render_results` draws the same pictures for ``omniad score`` on a user's clouds, where
what matters is the decision: the flagged clouds by score, then the highest-scored clouds
decided normal (the near misses a reader checks next), each coloured by point score with the
points above the element threshold ringed, the threshold marked on the colour bar.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from omniad.data import Split, Subset
from omniad.dataset import example_filename
from omniad.dataset import pick_examples as core_pick_examples
from omniad.decision import pick_results
from omniad.scores import Scores
from omniad_pointcloud.cloud import PointCloud, as_cloud

if TYPE_CHECKING:
    from omniad.decision import Decisions

_warned = False


def _pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend, or None (warned once) when it is not installed."""
    global _warned
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        if not _warned:
            warnings.warn("matplotlib is not installed, so there are no point cloud pictures; pip install matplotlib",
                          stacklevel=3)
            _warned = True
        return None
    return plt


def pick_examples(split: Split, scores: Scores, max_examples: int) -> list[int]:
    """Top-scored anomaly, top-scored normal, worst-missed anomaly, in turn, without repeats."""
    return core_pick_examples(split.labels, scores.sample, max_examples)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "cloud"


def _draw_free(fig, cloud: PointCloud, local: np.ndarray, truth: np.ndarray, lo: float, hi: float):
    axes = fig.subplots(1, 2)
    for ax, (a, b, depth), title in ((axes[0], (0, 1, 2), "top (x-y)"), (axes[1], (0, 2, 1), "side (x-z)")):
        sign = 1 if depth == 2 else -1  # seen from +z above, from -y at the side
        order = np.argsort(sign * cloud.points[:, depth])
        p = cloud.points[order]
        art = ax.scatter(p[:, a], p[:, b], c=local[order], s=4, cmap="inferno", vmin=lo, vmax=hi, linewidths=0)
        bad = truth[order] > 0
        if bad.any():
            ax.scatter(p[bad, a], p[bad, b], s=14, facecolors="none", edgecolors="#00d0ff", linewidths=0.5)
        ax.set_title(title, fontsize=7)
        ax.set_aspect("equal")
        ax.axis("off")
    return art, axes


def _draw_grid(fig, cloud: PointCloud, local: np.ndarray, truth: np.ndarray, lo: float, hi: float):
    ax = fig.subplots(1, 1)
    image = np.ma.masked_less(cloud.grid_values(local.astype(np.float64), fill=-np.inf), lo - 1e-12)
    art = ax.imshow(image, cmap="inferno", vmin=lo, vmax=hi, interpolation="nearest")
    mask = cloud.grid_values(truth.astype(np.float64), fill=0.0)
    if mask.any():
        ax.contour(mask, levels=[0.5], colors="#00d0ff", linewidths=0.8)
    ax.axis("off")
    return art, ax


def render_examples(subset: Subset, scores: Scores, out_dir: Path, max_examples: int = 4) -> list[Path]:
    plt = _pyplot()
    if plt is None:
        return []
    test = subset.test
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    locals_ = [np.asarray(scores.local[i], dtype=np.float64) if scores.local is not None else None
               for i in range(len(test))]
    known = [v for v in locals_ if v is not None and v.size]
    lo = float(min(v.min() for v in known)) if known else 0.0
    hi = float(max(v.max() for v in known)) if known else 1.0
    paths = []
    for i in pick_examples(test, scores, max_examples):
        cloud = as_cloud(test.samples[i], f"example {test.sample_id(i)}")
        local = locals_[i] if locals_[i] is not None else np.zeros(len(cloud))
        truth = np.asarray(test.targets[i]) if test.targets is not None else np.zeros(len(cloud))
        fig = plt.figure(figsize=(6.4, 3.2))
        draw = _draw_grid if cloud.grid is not None else _draw_free
        art, axes = draw(fig, cloud, local, truth, lo, hi)
        fig.colorbar(art, ax=axes, shrink=0.8, label="point score")
        label = "" if test.labels is None else ("anomalous" if test.labels[i] else "normal")
        fig.suptitle(f"{test.sample_id(i)} {label} score={scores.sample[i]:.4g}  (ringed: true defect)", fontsize=8)
        path = out_dir / example_filename(subset.name, test.sample_id(i))
        fig.savefig(path, dpi=80)
        plt.close(fig)
        paths.append(path)
    return paths


def render_results(split: Split, decisions: Decisions, out_dir: Path, max_items: int = 8) -> list[Path]:
    """Pictures of scored clouds: coloured by point score, the points above the element threshold ringed."""
    plt = _pyplot()
    if plt is None or max_items <= 0:
        return []
    scores = decisions.scores
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    picks = pick_results(decisions, max_items)
    locals_ = {i: np.asarray(scores.local[i], dtype=np.float64).reshape(-1) if scores.local is not None else None
               for i in picks}
    known = [v for v in locals_.values() if v is not None and v.size]
    lo = float(min(v.min() for v in known)) if known else 0.0
    hi = float(max(v.max() for v in known)) if known else 1.0
    if decisions.element_threshold is not None:  # keep the threshold on the scale, so its mark shows
        lo, hi = min(lo, decisions.element_threshold), max(hi, decisions.element_threshold)
    paths = []
    for rank, i in enumerate(picks):
        name = split.sample_id(i)
        cloud = as_cloud(split.samples[i], f"picture of {name}")
        local = locals_[i] if locals_[i] is not None and len(locals_[i]) == len(cloud) else np.zeros(len(cloud))
        flagged = (np.asarray(decisions.element[i]).reshape(-1) if decisions.element is not None
                   else np.zeros(len(cloud), np.int8))
        if len(flagged) != len(cloud):
            flagged = np.zeros(len(cloud), np.int8)
        fig = plt.figure(figsize=(6.4, 3.4))
        draw = _draw_grid if cloud.grid is not None else _draw_free
        art, axes = draw(fig, cloud, local, flagged, lo, hi)
        bar = fig.colorbar(art, ax=axes, shrink=0.8, label="point score")
        if decisions.element_threshold is not None:
            bar.ax.axhline(decisions.element_threshold, color="#00d0ff", linewidth=1.2)
        verdict = "" if decisions.sample is None else ("ANOMALY" if decisions.sample[i] else "normal")
        marks = (f"{int(flagged.sum())} of {len(cloud)} points flagged (ringed; threshold on the bar)"
                 if decisions.element is not None else "no element threshold")
        fig.suptitle(f"{name}  {verdict}  score={scores.sample[i]:.4g}\n{marks}", fontsize=8)
        path = out_dir / f"{rank:02d}_{_safe(name)}.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        paths.append(path)
    return paths
