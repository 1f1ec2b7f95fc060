"""Report pictures: a test video's per-frame scores with the true anomalous frames shaded, and a
few thumbnails (the highest-scored kept frames).

matplotlib is imported here only, and only when a report asks for pictures. Without it nothing
fails and no pictures are written; one warning per process says why (an empty gallery otherwise
looks like a run that drew nothing).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from omniad.data import Subset
from omniad.dataset import Dataset, example_filename
from omniad.scores import Scores

THUMBNAILS = 4
_warned = False


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


def _shade(ax, truth: np.ndarray) -> None:
    t = np.r_[0, (truth > 0).astype(np.int8), 0]
    edges = np.flatnonzero(np.diff(t))
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        ax.axvspan(a - 0.5, b - 0.5, color="tab:orange", alpha=0.25, lw=0)


def render_examples(subset: Subset, scores: Scores, out_dir: Path, max_examples: int = 4) -> list[Path]:
    """One PNG per chosen test video (up to ``max_examples``); empty list when matplotlib is missing."""
    global _warned
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        if not _warned:
            warnings.warn("matplotlib is not installed, so the report has no video pictures; "
                          "pip install 'omniad-video[plots]'", stacklevel=2)
            _warned = True
        return []
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for i in _pick(subset, scores, max_examples):
        video = subset.test.samples[i]
        n = int(video.n_frames)
        local = None if scores.local is None else np.asarray(scores.local[i], dtype=np.float64).reshape(-1)
        if local is not None and local.size != n:
            local = None
        fig = plt.figure(figsize=(11, 4.6))
        grid = fig.add_gridspec(2, THUMBNAILS, height_ratios=[1.6, 1])
        ax = fig.add_subplot(grid[0, :])
        if subset.test.targets is not None:
            _shade(ax, np.asarray(subset.test.targets[i]).reshape(-1))
        if local is not None:
            ax.plot(np.arange(n), local, color="tab:red", lw=1)
            ax.set_ylabel("frame score")
        else:
            ax.set_yticks([])
            ax.text(0.5, 0.5, "no per-frame scores from this detector", transform=ax.transAxes, ha="center",
                    color="grey")
        ax.set_xlim(-0.5, n - 0.5)
        ax.set_xlabel("frame (shaded: true anomalous frames)")
        name = str(subset.test.ids[i] if subset.test.ids else video.name)
        label = "" if subset.test.labels is None else (" anomalous" if subset.test.labels[i] else " normal")
        ax.set_title(f"{name}{label}  score {float(scores.sample[i]):.3g}", fontsize=9)
        kept = video.frame_index
        order = (np.argsort(-local[kept], kind="stable") if local is not None
                 else np.linspace(0, len(kept) - 1, THUMBNAILS).astype(int))
        for j, k in enumerate(sorted(int(k) for k in order[:THUMBNAILS])):
            tax = fig.add_subplot(grid[1, j])
            tax.imshow(video.frames[k])
            tax.set_axis_off()
            tax.set_title(f"frame {int(kept[k])}", fontsize=8)
        fig.tight_layout()
        path = out_dir / example_filename(subset.name, name if subset.test.ids else f"{i:03d}_{name}")
        fig.savefig(path, dpi=80)
        plt.close(fig)
        paths.append(path)
    return paths


class RendersFrames(Dataset):
    """Base of the frame datasets: report pictures from :func:`render_examples`."""

    def render_examples(self, subset: Subset, scores: Scores, out_dir: Path, max_examples: int = 4) -> list[Path]:
        return render_examples(subset, scores, Path(out_dir), max_examples=max_examples)
