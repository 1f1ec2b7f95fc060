"""Pseudo-anomalous training images for the generalist methods that need anomalies at fit (NAGL's
abnormal references, UniCon-HA's distribution-shifted negatives).

The papers draw them from auxiliary data (real anomalies of other datasets, or heavy
augmentations); this machine has none, so defects are synthesised on the training images with
the recipes ``vision.synthetic`` uses (DRAEM's Perlin-shaped foreign texture, CutPaste), and the
pixel masks become patch labels.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from omniad_vision.datasets.synthetic import cutpaste_defect, perlin_defect

_FOREIGN = ("stripes", "grid", "noise", "dots")


def _defect(img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One defect on an ``(H, W, 3)`` image in [0, 1]; the recipes work on a square canvas, so a
    rectangular image is padded to one and cropped back."""
    h, w = img.shape[:2]
    side = max(h, w)
    canvas = np.zeros((side, side, 3))
    canvas[:h, :w] = img
    for _ in range(20):
        if rng.uniform() < 0.5:
            out, mask = perlin_defect(canvas, _FOREIGN[int(rng.integers(len(_FOREIGN)))], rng)
        else:
            out, mask = cutpaste_defect(canvas, rng)
        if mask[:h, :w].any():
            break
    return out[:h, :w], mask[:h, :w]


def defect_batch(images: torch.Tensor, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, 3, H, W)`` images in [0, 1] -> the same with one synthetic defect each, and ``(B, H, W)`` masks."""
    outs, masks = [], []
    for img in images.permute(0, 2, 3, 1).double().numpy():
        out, mask = _defect(img, rng)
        outs.append(torch.from_numpy(np.ascontiguousarray(out)).permute(2, 0, 1))
        masks.append(torch.from_numpy(mask.astype(np.float32)))
    return torch.stack(outs).float().clamp_(0.0, 1.0), torch.stack(masks)


def patch_labels(masks: torch.Tensor, grid: tuple[int, int], min_fraction: float = 0.25) -> torch.Tensor:
    """``(B, H, W)`` pixel masks -> ``(B, h*w)`` 0/1 patch labels: a patch is anomalous when at least
    ``min_fraction`` of its pixels are."""
    frac = F.adaptive_avg_pool2d(masks[:, None].float(), grid)[:, 0]
    return (frac >= min_fraction).float().flatten(1)
