"""Report pictures: the highest-scored test clouds, seen from above, coloured by point score,
beside their ground truth. matplotlib is imported only here; without it there are no
pictures and one warning says why."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from omniad.data import Subset
from omniad.scores import Scores
from omniad_pointcloud.cloud import as_cloud

_warned = False


def render_examples(subset: Subset, scores: Scores, out_dir: Path, max_examples: int = 4) -> list[Path]:
    global _warned
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        if not _warned:
            warnings.warn("matplotlib is not installed, so the report has no point cloud pictures; "
                          "pip install omniad-pointcloud[plots]", stacklevel=2)
            _warned = True
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    order = np.argsort(-scores.sample)[:max_examples]
    paths = []
    for rank, i in enumerate(order):
        cloud = as_cloud(subset.test.samples[i])
        fig, axes = plt.subplots(1, 2, figsize=(6, 3))
        truth = subset.test.targets[i] if subset.test.targets is not None else np.zeros(len(cloud))
        local = scores.local[i] if scores.local is not None else np.zeros(len(cloud))
        for ax, values, title in ((axes[0], local, "score"), (axes[1], truth, "ground truth")):
            ax.scatter(cloud.points[:, 0], cloud.points[:, 1], c=values, s=2, cmap="inferno")
            ax.set_title(title, fontsize=8)
            ax.set_aspect("equal")
            ax.axis("off")
        fig.suptitle(f"{subset.test.sample_id(int(i))}: {scores.sample[i]:.3g}", fontsize=8)
        path = out_dir / f"{subset.name}-{rank}.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        paths.append(path)
    return paths
