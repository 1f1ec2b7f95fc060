"""What all vision datasets share: report pictures (heat-map overlays) and pictures of scored images.

Pixels are not table rows: ``omniad score`` writes each image's map as ``maps/<image>.npy`` and
``.png`` (the core does), so :meth:`VisionDataset.element_columns` names no columns. What people
read first are :meth:`VisionDataset.render_results` pictures: the flagged images, highest score
first, then the highest-scored images decided normal (the near misses to check next), each with
the pixels above the pixel threshold outlined on the image and on its heat map.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from omniad.data import Split, Subset
from omniad.dataset import Dataset, example_filename, picture_name, sample_stem
from omniad.dataset import pick_examples as core_pick_examples
from omniad.decision import pick_results
from omniad.scores import Scores
from omniad_vision.images import as_rgb

if TYPE_CHECKING:
    from omniad.decision import Decisions


def pick_examples(split: Split, scores: Scores, max_examples: int) -> list[int]:
    """Most telling test images first: top-scored anomaly, top false alarm, worst-missed anomaly, ..."""
    return core_pick_examples(split.labels, scores.sample, max_examples)


def render_results(split: Split, decisions: Decisions, out_dir: Path, max_items: int = 8,
                   where: str = "pictures") -> list[Path]:
    """One PNG per picked image (``NN_<image>.png``, NN = rank): flagged pixels outlined, heat map beside it.

    All pictures share one colour scale (their maps' range, stretched to hold the pixel threshold).
    """
    from omniad_vision.overlays import decision_picture, save_png

    picks = pick_results(decisions, max_items)
    scores = decisions.scores
    maps = {i: None if scores.local is None else np.asarray(scores.local[i], dtype=np.float64) for i in picks}
    known = [m for m in maps.values() if m is not None and m.size]
    lo = float(min(np.nanmin(m) for m in known)) if known else 0.0
    hi = float(max(np.nanmax(m) for m in known)) if known else 1.0
    if decisions.element_threshold is not None:
        lo, hi = min(lo, decisions.element_threshold), max(hi, decisions.element_threshold)
    paths = []
    for rank, i in enumerate(picks):
        name = split.sample_id(i)
        image = as_rgb(split.samples[i], f"{where}: image {name}")
        region = None if decisions.element is None else np.asarray(decisions.element[i])
        truth = None if split.targets is None else np.asarray(split.targets[i])
        verdict = ""
        if decisions.sample is not None:
            sign = ">" if decisions.sample[i] else "<="
            verdict = f"{'ANOMALY' if decisions.sample[i] else 'normal'} (score {scores.sample[i]:.4g} {sign} " \
                      f"{decisions.sample_threshold:.4g})"
        else:
            verdict = f"score {scores.sample[i]:.4g}"
        if split.labels is not None:
            verdict += f", labelled {'anomalous' if split.labels[i] else 'normal'}"
        if region is not None:
            verdict += f"\n{100.0 * float(np.mean(region)):.2f}% of pixels above {decisions.element_threshold:.4g}"
        picture = decision_picture(image, maps[i], region=region, truth=truth, vmin=lo, vmax=hi,
                                   title=f"{name}: {verdict}")
        paths.append(save_png(picture, Path(out_dir) / f"{rank:02d}_{picture_name(sample_stem(name))}.png"))
    return paths


class VisionDataset(Dataset):
    """Base of the image datasets: report triptychs, and pictures of scored images for ``omniad score``."""

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

    def element_columns(self, split: Split, index: int, n_elements: int) -> dict[str, Sequence[Any]] | None:
        """None: pixels are not table rows; the core writes each image's map as ``maps/<image>.npy`` / ``.png``."""
        return None

    def render_results(self, split: Split, decisions: Decisions, out_dir: Path, max_items: int = 8) -> list[Path]:
        return render_results(split, decisions, Path(out_dir), max_items, where=self.where)
