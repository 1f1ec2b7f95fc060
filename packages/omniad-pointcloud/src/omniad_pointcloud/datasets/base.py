"""Base of the point cloud datasets: report pictures of scored clouds."""

from __future__ import annotations

from pathlib import Path

from omniad.data import Subset
from omniad.dataset import Dataset
from omniad.scores import Scores


class CloudDataset(Dataset):
    def render_examples(self, subset: Subset, scores: Scores, out_dir: Path, max_examples: int = 4) -> list[Path]:
        from omniad_pointcloud.datasets.render import render_examples

        return render_examples(subset, scores, Path(out_dir), max_examples=max_examples)
