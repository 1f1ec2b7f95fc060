"""Pictures and per-frame names of scored videos, for reports and for ``omniad score``.

One figure per video: its per-frame scores with frames shaded, and four thumbnails (the
highest-scored kept frames), each with the detector's heat map over it where the detector gives
one (``Scores.extras``, see :mod:`omniad_video.detectors.frame_base`): the colours run from the
video's median map value (transparent) to its maximum (red), so a thumbnail of a normal frame
stays mostly clear. For the report (:func:`render_examples`) the shading is the true
anomalous frames; for a user's own data (:func:`render_results`) it is the frames the saved
threshold flags, with the threshold drawn as a line (and the true frames, when there are labels,
as a strip under the curve). :class:`RendersFrames`, the base of the frame datasets, also names a
video's elements for the per-frame table: the original frame number, the time in seconds where
the frame rate is known, and the frame's image file for frame folders.

matplotlib is imported here only, and only when pictures are asked for. Without it nothing
fails and no pictures are written; one warning per process says why (an empty gallery otherwise
looks like a run that drew nothing).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from omniad.data import Split, Subset
from omniad.dataset import Dataset, example_filename, picture_name, sample_stem
from omniad.decision import pick_results
from omniad.scores import Scores
from omniad_video.detectors.frame_base import HEAT, HEAT_EXTENT
from omniad_video.samples import FrameVideo

if TYPE_CHECKING:
    from omniad.decision import Decisions

THUMBNAILS = 4
_warned = False


def _pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend, or None (warned once per process) when it is not installed."""
    global _warned
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        if not _warned:
            warnings.warn("matplotlib is not installed, so there are no video pictures; "
                          "pip install 'omniad-video[plots]'", stacklevel=3)
            _warned = True
        return None
    return plt


def _pick(subset: Subset, scores: Scores, max_examples: int) -> list[int]:
    """The highest-scored anomalous and normal test videos, alternating (both kinds shown)."""
    labels = subset.test.labels if subset.test.labels is not None else np.zeros(len(subset.test), dtype=np.int8)
    order = np.argsort(-np.asarray(scores.sample), kind="stable")
    pools = [[int(i) for i in order if labels[i]], [int(i) for i in order if not labels[i]]]
    out: list[int] = []
    while len(out) < max_examples and any(pools):
        for pool in pools:
            if pool and len(out) < max_examples:
                out.append(pool.pop(0))
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` of the runs of nonzero values (stop exclusive)."""
    t = np.r_[0, (np.asarray(mask).reshape(-1) > 0).astype(np.int8), 0]
    edges = np.flatnonzero(np.diff(t))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _shade(ax: Any, truth: np.ndarray, color: str = "tab:orange") -> None:
    for a, b in _runs(truth):
        ax.axvspan(a - 0.5, b - 0.5, color=color, alpha=0.25, lw=0)


def _heat(scores: Scores, i: int, video: FrameVideo) -> tuple[np.ndarray, tuple[int, int]] | None:
    """Video ``i``'s heat maps and the pixels they cover, when the detector gave usable ones."""
    maps, extents = scores.extras.get(HEAT), scores.extras.get(HEAT_EXTENT)
    if not maps or not extents or len(maps) <= i or len(extents) <= i:
        return None
    heat = np.asarray(maps[i], dtype=np.float64)
    extent = np.asarray(extents[i]).reshape(-1)
    if heat.ndim != 3 or len(heat) != len(video.frames) or extent.size != 2 or not np.isfinite(heat).all():
        return None
    return heat, (int(extent[0]), int(extent[1]))


def _overlay(ax: Any, heat: np.ndarray, extent: tuple[int, int], frame: int, shape: tuple[int, ...]) -> None:
    """Decoded frame ``frame``'s map over its thumbnail: transparent at the video's median, opaque red at its maximum."""
    from matplotlib import colormaps

    lo, hi = float(np.median(heat)), float(heat.max())
    x = np.clip((heat[frame] - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros(heat.shape[1:])
    rgba = colormaps["jet"](x)
    rgba[..., 3] = 0.6 * x
    rows, cols = extent
    ax.imshow(rgba, extent=(-0.5, cols - 0.5, rows - 0.5, -0.5), interpolation="nearest")
    ax.set_xlim(-0.5, shape[1] - 0.5)
    ax.set_ylim(shape[0] - 0.5, -0.5)


def _figure(plt: Any, video: FrameVideo, local: np.ndarray | None, title: str, *, shaded: np.ndarray | None,
            xlabel: str, threshold: float | None = None, truth: np.ndarray | None = None,
            heat: tuple[np.ndarray, tuple[int, int]] | None = None) -> Any:
    """The score curve of one video (``shaded`` frames shaded, ``threshold`` as a line, ``truth`` as a strip
    under the curve) above thumbnails of its highest-scored kept frames (with ``heat`` over them)."""
    n = int(video.n_frames)
    fig = plt.figure(figsize=(11, 4.6))
    grid = fig.add_gridspec(2, THUMBNAILS, height_ratios=[1.6, 1])
    ax = fig.add_subplot(grid[0, :])
    if shaded is not None:
        _shade(ax, shaded)
    if local is not None:
        ax.plot(np.arange(n), local, color="tab:red", lw=1)
        ax.set_ylabel("frame score")
        if threshold is not None:
            ax.axhline(threshold, color="tab:blue", lw=1, ls="--")
        if truth is not None:
            lo, hi = ax.get_ylim()
            for a, b in _runs(truth):
                ax.plot([a - 0.5, b - 0.5], [lo, lo], color="black", lw=4, solid_capstyle="butt")
            ax.set_ylim(lo - 0.02 * (hi - lo), hi)
    else:
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no per-frame scores from this detector", transform=ax.transAxes, ha="center", color="grey")
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_title(title, fontsize=9)
    kept = np.asarray(video.frame_index)
    order = (np.argsort(-local[kept], kind="stable") if local is not None
             else np.linspace(0, len(kept) - 1, THUMBNAILS).astype(int))
    files = video.meta.get("files")
    for j, k in enumerate(sorted(int(k) for k in order[:THUMBNAILS])):
        tax = fig.add_subplot(grid[1, j])
        tax.imshow(video.frames[k])
        if heat is not None:
            _overlay(tax, heat[0], heat[1], k, video.frames.shape[1:3])
        tax.set_axis_off()
        frame = int(kept[k])
        name = f" ({files[frame]})" if isinstance(files, list) and len(files) == n else ""
        score = "" if local is None else f"  {local[frame]:.3g}"
        tax.set_title(f"frame {frame}{name}{score}", fontsize=8)
    fig.tight_layout()
    return fig


def _local(scores: Scores, i: int, n: int) -> np.ndarray | None:
    if scores.local is None:
        return None
    local = np.asarray(scores.local[i], dtype=np.float64).reshape(-1)
    return local if local.size == n else None


def render_examples(subset: Subset, scores: Scores, out_dir: Path, max_examples: int = 4) -> list[Path]:
    """One PNG per chosen test video (up to ``max_examples``); empty list when matplotlib is missing."""
    plt = _pyplot()
    if plt is None:
        return []
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for i in _pick(subset, scores, max_examples):
        video = subset.test.samples[i]
        local = _local(scores, i, int(video.n_frames))
        name = str(subset.test.ids[i] if subset.test.ids else video.name)
        label = "" if subset.test.labels is None else (" anomalous" if subset.test.labels[i] else " normal")
        truth = None if subset.test.targets is None else np.asarray(subset.test.targets[i]).reshape(-1)
        heat = _heat(scores, i, video)
        fig = _figure(plt, video, local, f"{name}{label}  score {float(scores.sample[i]):.3g}", shaded=truth,
                      xlabel="frame (shaded: true anomalous frames)" + ("; thumbnails: where the detector looked"
                                                                          if heat is not None else ""), heat=heat)
        path = out_dir / example_filename(subset.name, name if subset.test.ids else f"{i:03d}_{name}")
        fig.savefig(path, dpi=80)
        plt.close(fig)
        paths.append(path)
    return paths


def render_results(split: Split, decisions: Decisions, out_dir: Path, max_items: int = 8) -> list[Path]:
    """Per chosen video: frame scores with the flagged frames shaded, the element threshold as a dashed line,
    the true anomalous frames (if labelled) as a black strip, and the top frames; ``NN_<video>.png``."""
    plt = _pyplot()
    if plt is None or max_items <= 0:
        return []
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scores = decisions.scores
    paths = []
    for rank, i in enumerate(pick_results(decisions, max_items)):
        video = split.samples[i]
        if not isinstance(video, FrameVideo):
            continue
        n = int(video.n_frames)
        local = _local(scores, i, n)
        flagged = None
        if decisions.element is not None and np.asarray(decisions.element[i]).size == n:
            flagged = np.asarray(decisions.element[i]).reshape(-1)
        truth = None if split.targets is None else np.asarray(split.targets[i]).reshape(-1)
        name = split.sample_id(i)
        verdict = "" if decisions.sample is None else ("  ANOMALY" if decisions.sample[i] else "  normal")
        marks = ("no frame threshold" if flagged is None
                 else f"{int(flagged.sum())} of {n} frames flagged (shaded; dashed line: threshold)")
        xlabel = "frame" + ("; black strip: true anomalous frames" if truth is not None else "")
        fig = _figure(plt, video, local, f"{name}{verdict}  score {float(scores.sample[i]):.4g}   {marks}",
                      shaded=flagged, xlabel=xlabel, threshold=decisions.element_threshold, truth=truth,
                      heat=_heat(scores, i, video))
        path = out_dir / f"{rank:02d}_{picture_name(sample_stem(name))}.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        paths.append(path)
    return paths


def frame_columns(video: Any, n_elements: int) -> dict[str, Sequence[Any]]:
    """A video's frames in the user's terms: original frame number, time in seconds (frame rate known),
    the frame's image file (frame folders); elements that are not its frames are named by position."""
    if not isinstance(video, FrameVideo) or int(video.n_frames) != n_elements:
        return {"element": np.arange(n_elements)}
    frames = np.arange(n_elements)
    columns: dict[str, Sequence[Any]] = {"frame": frames}
    if video.fps:
        columns["time_s"] = [round(float(f) / float(video.fps), 4) for f in frames]
    files = video.meta.get("files")
    if isinstance(files, list) and len(files) == n_elements:
        columns["file"] = files
    return columns


class RendersFrames(Dataset):
    """Base of the frame datasets: report pictures, pictures of decisions, per-frame table columns."""

    def render_examples(self, subset: Subset, scores: Scores, out_dir: Path, max_examples: int = 4) -> list[Path]:
        return render_examples(subset, scores, Path(out_dir), max_examples=max_examples)

    def element_columns(self, split: Split, index: int, n_elements: int) -> dict[str, Sequence[Any]] | None:
        return frame_columns(split.samples[index], n_elements)

    def render_results(self, split: Split, decisions: Decisions, out_dir: Path, max_items: int = 8) -> list[Path]:
        return render_results(split, decisions, Path(out_dir), max_items=max_items)
