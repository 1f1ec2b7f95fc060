"""Image sources and augmentations of EfficientAD training, on ``[0, 1]`` batches.

* ``colour_jitter``: the paper's autoencoder augmentation, one of brightness, contrast or
  saturation with a factor drawn from U(0.8, 1.2), per image.
* ``random_views``: random resized crops and flips, so that distilling a teacher from a few
  dozen images sees many different patches.
* ``PenaltyImages``: what stands in for ImageNet in the student's penalty loss, which the
  paper draws from ImageNet; that set is not available offline, so the user chooses
  procedural textures or a folder of generic images (see the README).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from omniad.errors import ConfigError, DataError
from omniad_vision.images import IMAGE_SUFFIXES, read_rgb
from omniad_vision.preprocess import to_unit_tensor

_GRAY = (0.299, 0.587, 0.114)


def _gray(x: torch.Tensor) -> torch.Tensor:
    w = torch.tensor(_GRAY, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * w).sum(dim=1, keepdim=True)


def colour_jitter(x: torch.Tensor, generator: torch.Generator, low: float = 0.8, high: float = 1.2) -> torch.Tensor:
    """One of brightness / contrast / saturation per image, factor ~ U(low, high) (torchvision's definitions)."""
    n = x.shape[0]
    factor = (torch.rand(n, generator=generator) * (high - low) + low).to(x.device).view(n, 1, 1, 1)
    which = torch.randint(0, 3, (n,), generator=generator).to(x.device).view(n, 1, 1, 1)
    gray = _gray(x)
    brightness = x * factor
    contrast = (x - gray.mean(dim=(2, 3), keepdim=True)) * factor + gray.mean(dim=(2, 3), keepdim=True)
    saturation = (x - gray) * factor + gray
    out = torch.where(which == 0, brightness, torch.where(which == 1, contrast, saturation))
    return out.clamp_(0.0, 1.0)


def random_views(
    images: torch.Tensor, generator: torch.Generator, min_scale: float = 0.4, crop: int | None = None
) -> torch.Tensor:
    """A random crop (area share in [min_scale, 1], aspect in [3/4, 4/3]) of each image, resized back,
    flipped at random and colour-jittered; ``crop`` then cuts a random ``crop`` x ``crop`` square
    (cheaper distillation steps at the images' own scale)."""
    n, _, h, w = images.shape
    out = []
    for i in range(n):
        area = float(torch.empty(1).uniform_(min_scale, 1.0, generator=generator)) * h * w
        aspect = float(torch.exp(torch.empty(1).uniform_(np.log(3 / 4), np.log(4 / 3), generator=generator)))
        ch = round(min(h, max(8.0, (area / aspect) ** 0.5)))
        cw = round(min(w, max(8.0, (area * aspect) ** 0.5)))
        top = int(torch.randint(0, h - ch + 1, (1,), generator=generator))
        left = int(torch.randint(0, w - cw + 1, (1,), generator=generator))
        view = images[i : i + 1, :, top : top + ch, left : left + cw]
        view = F.interpolate(view, size=(h, w), mode="bilinear", align_corners=False)
        if bool(torch.randint(0, 2, (1,), generator=generator)):
            view = view.flip(-1)
        if bool(torch.randint(0, 2, (1,), generator=generator)):
            view = view.flip(-2)
        if crop is not None and crop < min(h, w):
            top = int(torch.randint(0, h - crop + 1, (1,), generator=generator))
            left = int(torch.randint(0, w - crop + 1, (1,), generator=generator))
            view = view[..., top : top + crop, left : left + crop]
        out.append(view)
    return colour_jitter(torch.cat(out), generator)


class PenaltyImages:
    """Draws batches of generic ``[0, 1]`` images of a fixed size for the penalty loss."""

    def __init__(self, spec: str, size: tuple[int, int], where: str) -> None:
        self.size = size
        self.where = where
        self.synthetic = spec == "synthetic"
        self.paths: list[Path] = []
        if not self.synthetic:
            folder = Path(spec).expanduser()
            if not folder.is_dir():
                raise ConfigError(
                    f"{where}: penalty_images={spec!r} is neither 'synthetic' nor an existing folder; "
                    "pass 'synthetic', a folder of generic images (e.g. an ImageNet subset), or None"
                )
            self.paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
            if not self.paths:
                raise DataError(f"{where}: penalty_images folder {folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")

    def draw(self, n: int, generator: torch.Generator) -> torch.Tensor:
        if self.synthetic:
            return self._textures(n, generator)
        picks = torch.randint(0, len(self.paths), (n,), generator=generator).tolist()
        images = [read_rgb(self.paths[i], f"{self.where}, penalty image") for i in picks]
        return to_unit_tensor(images, self.size)

    def _textures(self, n: int, generator: torch.Generator) -> torch.Tensor:
        from omniad_vision.datasets.synthetic import PALETTES, paint, pattern

        rng = np.random.default_rng(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
        side = max(self.size)
        kinds = sorted(PALETTES)
        out = []
        for _ in range(n):
            kind = kinds[int(rng.integers(len(kinds)))]
            palette = PALETTES[kinds[int(rng.integers(len(kinds)))]]
            rgb = paint(pattern(kind, side, rng, angle=float(rng.uniform(0, 180))), palette, rng)
            out.append((np.clip(rgb, 0, 1) * 255).round().astype(np.uint8)[: self.size[0], : self.size[1]])
        return to_unit_tensor(out, self.size)
