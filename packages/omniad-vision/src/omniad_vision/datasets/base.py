"""What all vision datasets share: report pictures (heat-map overlays) of chosen test images."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from omniad.data import Split, Subset
from omniad.dataset import Dataset
from omniad.scores import Scores
from omniad_vision.images import as_rgb


def pick_examples(split: Split, scores: Scores, max_examples: int) -> list[int]:
    """Most telling test images first: top-scored anomaly, worst-missed anomaly, top false alarm, ..."""
    s = scores.sample
    labels = split.labels if split.labels is not None else np.zeros(len(s), dtype=np.int8)
    anomalous = [int(i) for i in np.argsort(-s) if labels[i] == 1]
    normal = [int(i) for i in np.argsort(-s) if labels[i] == 0]
    queues = [anomalous, anomalous[::-1], normal]
    picked: list[int] = []
    while len(picked) < min(max_examples, len(s)) and any(queues):
        for q in queues:
            while q and q[0] in picked:
                q.pop(0)
            if q and len(picked) < max_examples:
                picked.append(q.pop(0))
    return picked


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "image"


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
            out.append(save_png(picture, Path(out_dir) / f"{_safe(subset.name)}_{_safe(test.sample_id(i))}.png"))
        return out
