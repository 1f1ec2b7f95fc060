"""What all vision datasets share: report pictures (heat-map overlays) of chosen test images."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from omniad.data import Split, Subset
from omniad.dataset import Dataset, example_filename
from omniad.dataset import pick_examples as core_pick_examples
from omniad.scores import Scores
from omniad_vision.images import as_rgb


def pick_examples(split: Split, scores: Scores, max_examples: int) -> list[int]:
    """Most telling test images first: top-scored anomaly, top false alarm, worst-missed anomaly, ..."""
    return core_pick_examples(split.labels, scores.sample, max_examples)


class VisionDataset(Dataset):
    """Base of the image datasets: ``render_examples`` writes image | truth | heat-map PNGs."""

    def render_examples(self, subset: Subset, scores: Scores, out_dir: Path, max_examples: int = 4) -> list[Path]:
        from omniad_vision.overlays import save_png, triptych

        test = subset.test
        maps = scores.local
        if maps is not None and len(maps):
            lo = float(min(np.min(m) for m in maps))
            hi = float(max(np.max(m) for m in maps))
        else:
            lo = hi = 0.0
        out = []
        for i in pick_examples(test, scores, max_examples):
            image = as_rgb(test.samples[i], f"{self.where}: example {test.sample_id(i)}")
            mask = None if test.targets is None else np.asarray(test.targets[i])
            label = "" if test.labels is None else ("anomalous" if test.labels[i] else "normal")
            title = f"{test.sample_id(i)} {label} score={scores.sample[i]:.4g}"
            picture = triptych(image, mask, None if maps is None else maps[i], lo, hi, title=title)
            out.append(save_png(picture, Path(out_dir) / example_filename(subset.name, test.sample_id(i))))
        return out
