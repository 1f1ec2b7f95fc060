"""Report pictures: the series, the detector's per-timestep score, true anomalies shaded.

matplotlib is imported here only, and only when a report asks for pictures; without it
no pictures are written and nothing fails.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from omniad.data import Subset
from omniad.dataset import example_filename, pick_examples
from omniad.scores import Scores

MAX_CHANNELS_DRAWN = 6


def _ranges(labels: np.ndarray) -> list[tuple[int, int]]:
    """Half-open [start, end) runs of 1s."""
    padded = np.r_[0, (np.asarray(labels) > 0).astype(np.int8), 0]
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def render_series(subset: Subset, scores: Scores, out_dir: Path, max_examples: int = 4) -> list[Path]:
    """One PNG per chosen test series (up to ``max_examples``, ``pick_examples``); empty list without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    targets = subset.test.targets or [None] * len(subset.test)
    for i in pick_examples(subset.test.labels, scores.sample, max_examples):
        x = np.asarray(subset.test.samples[i], dtype=np.float64)
        x = x[:, None] if x.ndim == 1 else x
        local = None if scores.local is None else np.asarray(scores.local[i], dtype=np.float64)
        fig, axes = plt.subplots(2 if local is not None else 1, 1, figsize=(11, 4.2), sharex=True, squeeze=False)
        ax = axes[0, 0]
        for c in range(min(x.shape[1], MAX_CHANNELS_DRAWN)):
            ax.plot(x[:, c], lw=0.7)
        ax.set_ylabel("value")
        name = subset.test.sample_id(i)
        label = "" if subset.test.labels is None else (" anomalous" if subset.test.labels[i] else " normal")
        ax.set_title(f"{subset.name}: {name}{label} (sample score {scores.sample[i]:.3g})", fontsize=9)
        if local is not None:
            axes[1, 0].plot(local, color="tab:red", lw=0.8)
            axes[1, 0].set_ylabel("score")
            axes[1, 0].set_xlabel("timestep")
        if targets[i] is not None:
            for start, end in _ranges(targets[i]):
                for row in axes[:, 0]:
                    row.axvspan(start, end, color="tab:orange", alpha=0.25, lw=0)
        fig.tight_layout()
        path = out_dir / example_filename(subset.name, name)
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths
