"""Image tensors in, anomaly maps out: the explicit resize / normalise / batch / blur steps.

Every detector resizes to ``image_size`` (bilinear with antialiasing, no crop) and
normalises with a mean/std it states in its params; maps are computed at that size and
resized back to each input's own resolution, so ``Scores.local`` always matches the mask.
Images are decoded and validated batch by batch so memory stays bounded; detectors that
train on augmented images resize them once and keep them in ``[0, 1]``
(``load_unit_images``), so augmentations act before ``normalize``.
The Gaussian blur uses the kernel size ``2 * int(4 * sigma + 0.5) + 1`` (or fewer taps where a
method's reference code cuts it) and reflect padding (as anomalib / kornia do), applied as two 1-D passes: same result, far fewer
multiplies than a 2-D kernel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from omniad.errors import ConfigError
from omniad.scores import Scores
from omniad_vision.detectors.image_params import ImageParams
from omniad_vision.images import as_rgb

#: normalised batch -> (one image score per image (B,), maps at model input size (B, H, W) or None)
ScoreFn = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor | None]]


def as_hw(size: int | Sequence[int]) -> tuple[int, int]:
    return (int(size), int(size)) if isinstance(size, int) else (int(size[0]), int(size[1]))


def input_size(params: ImageParams) -> tuple[int, int]:
    """``(H, W)`` of the model input that ``params.image_size`` states."""
    return as_hw(params.image_size)


def patch_grid(size: tuple[int, int], patch: int, where: str, model: str, example: int) -> tuple[int, int]:
    """``(rows, cols)`` of ``patch``-pixel tokens of a ViT input of ``size``; sides must be multiples."""
    if size[0] % patch or size[1] % patch:
        raise ConfigError(
            f"{where}: image_size {size} is not a multiple of the {model} patch size {patch}; use e.g. {example}"
        )
    return (size[0] // patch, size[1] // patch)


def normalize(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """``[0, 1]`` batch -> normalised batch (kept separate so augmentations can run first)."""
    m = torch.tensor(mean, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    s = torch.tensor(std, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - m) / s


def resize_images(
    images: Sequence[np.ndarray], size: tuple[int, int], device: str | torch.device = "cpu"
) -> torch.Tensor:
    """``uint8 (H, W, 3)`` images -> float batch ``(B, 3, *size)`` on the 0..1 scale, not normalised."""
    out = []
    for img in images:
        t = torch.from_numpy(np.ascontiguousarray(img)).to(device).permute(2, 0, 1)[None].float().div_(255.0)
        if tuple(t.shape[-2:]) != tuple(size):
            t = F.interpolate(t, size=size, mode="bilinear", align_corners=False, antialias=True)
        out.append(t)
    return torch.cat(out)


def to_unit_tensor(
    images: Sequence[np.ndarray], size: tuple[int, int], device: str | torch.device = "cpu"
) -> torch.Tensor:
    """``resize_images`` clamped to ``[0, 1]``: the input of augmentations."""
    return resize_images(images, size, device).clamp_(0.0, 1.0)


def to_tensor(
    images: Sequence[np.ndarray],
    size: tuple[int, int],
    mean: Sequence[float],
    std: Sequence[float],
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """``uint8 (H, W, 3)`` images -> normalised float batch ``(B, 3, *size)``."""
    return normalize(resize_images(images, size, device), mean, std)


def iter_batches(samples: Sequence[Any], batch_size: int, where: str) -> Iterator[tuple[int, list[np.ndarray]]]:
    """``(start, images)`` batches, decoding and validating lazily so memory stays bounded."""
    for start in range(0, len(samples), batch_size):
        stop = min(start + batch_size, len(samples))
        yield start, [as_rgb(samples[i], f"{where}, image {i}") for i in range(start, stop)]


def tensor_batches(
    samples: Sequence[Any], params: ImageParams, device: str | torch.device, where: str, size: tuple[int, int] | None = None
) -> Iterator[tuple[int, list[tuple[int, int]], torch.Tensor]]:
    """``(start, original (H, W) per image, normalised batch at size)`` in batches of ``params.batch_size``;
    ``size`` defaults to ``params.image_size``."""
    size = size or input_size(params)
    for start, images in iter_batches(samples, params.batch_size, where):
        yield start, [img.shape[:2] for img in images], to_tensor(images, size, params.mean, params.std, device)


def load_unit_images(samples: Sequence[Any], size: tuple[int, int], where: str, batch_size: int = 16) -> torch.Tensor:
    """All ``samples`` resized to ``size`` as one CPU float batch in ``[0, 1]`` (validated on the way)."""
    return torch.cat([to_unit_tensor(images, size) for _, images in iter_batches(samples, batch_size, where)])


def normalized_batches(
    images: torch.Tensor, batch_size: int, mean: Sequence[float], std: Sequence[float], device: str | torch.device
) -> Iterator[torch.Tensor]:
    """A ``[0, 1]`` batch (e.g. from ``load_unit_images``) in normalised chunks of ``batch_size`` on ``device``."""
    for start in range(0, images.shape[0], batch_size):
        yield normalize(images[start : start + batch_size].to(device), mean, std)


def score_images(
    samples: Sequence[Any],
    params: ImageParams,
    device: str | torch.device,
    where: str,
    fn: ScoreFn,
    size: tuple[int, int] | None = None,
) -> Scores:
    """Run ``fn`` batch by batch without autograd; maps come back at each input image's resolution
    (``local`` is None when ``fn`` gives no maps). ``size`` defaults to ``params.image_size``."""
    scores: list[np.ndarray] = []
    maps: list[np.ndarray] | None = []
    with torch.inference_mode():
        for _, shapes, x in tensor_batches(samples, params, device, where, size):
            s, m = fn(x)
            scores.append(s.double().cpu().numpy().reshape(-1))
            maps = None if m is None or maps is None else maps + to_input_resolution(m, shapes)
    return Scores(sample=np.concatenate(scores), local=maps)


def gaussian_kernel1d(sigma: float, device: torch.device | str = "cpu", taps: int | None = None) -> torch.Tensor:
    """``taps`` values (odd; default ``2 * int(4 * sigma + 0.5) + 1``, the whole bell)."""
    radius = int(4.0 * sigma + 0.5) if taps is None else (taps - 1) // 2
    x = torch.arange(-radius, radius + 1, dtype=torch.float32, device=device)
    k = torch.exp(-(x**2) / (2.0 * sigma**2))
    return k / k.sum()


def gaussian_blur(maps: torch.Tensor, sigma: float, taps: int | None = None) -> torch.Tensor:
    """Separable Gaussian blur of ``(B, 1, H, W)`` maps with reflect padding; sigma 0 = identity. ``taps``: a
    kernel cut to that many values (Dinomaly's evaluation blurs with 5 taps of sigma 4)."""
    if sigma <= 0:
        return maps
    k = gaussian_kernel1d(sigma, maps.device, taps).to(maps.dtype)
    r = (k.numel() - 1) // 2
    h, w = maps.shape[-2:]
    # reflect padding needs pad < size; fall back to replicate for tiny maps
    mode = "reflect" if r < min(h, w) else "replicate"
    x = F.conv2d(F.pad(maps, (r, r, 0, 0), mode=mode), k.view(1, 1, 1, -1))
    return F.conv2d(F.pad(x, (0, 0, r, r), mode=mode), k.view(1, 1, -1, 1))


def patch_scores_to_maps(
    patch_scores: torch.Tensor, size: tuple[int, int], sigma: float, mode: str = "bilinear",
    taps: int | None = None, align_corners: bool = False,
) -> torch.Tensor:
    """``(B, h, w)`` patch scores -> blurred ``(B, *size)`` maps at model input resolution."""
    x = patch_scores[:, None]
    kwargs = {"align_corners": align_corners} if mode == "bilinear" else {}
    x = F.interpolate(x, size=size, mode=mode, **kwargs)
    return gaussian_blur(x, sigma, taps)[:, 0]


def to_input_resolution(maps: torch.Tensor, shapes: Sequence[tuple[int, int]]) -> list[np.ndarray]:
    """Resize each ``(H', W')`` map to its image's ``(H, W)`` (bilinear), as float32 numpy."""
    out = []
    for m, shape in zip(maps, shapes, strict=True):
        if tuple(m.shape) != tuple(shape):
            m = F.interpolate(m[None, None], size=tuple(shape), mode="bilinear", align_corners=False)[0, 0]
        out.append(m.detach().float().cpu().numpy())
    return out
