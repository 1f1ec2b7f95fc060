"""Heat-map pictures people look at: image | ground truth | anomaly-map overlay, as PNG.

Maps of one subset share one colour scale (``vmin``/``vmax`` from all maps), so a hot
spot means the same score in every picture of a report; a per-image scale would make a
normal image's noise look as alarming as a real defect.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from omniad.errors import DataError

GT_COLOUR = (0, 255, 0)
SEPARATOR = 4
MIN_PANEL = 192  # small images are enlarged (nearest) so the picture and its caption stay legible


def colorize(score_map: np.ndarray, vmin: float, vmax: float, cmap: str = "jet") -> np.ndarray:
    """Scores -> ``uint8 (H, W, 3)`` colours of a matplotlib colormap over ``[vmin, vmax]``."""
    from matplotlib import colormaps

    span = vmax - vmin if vmax > vmin else 1.0
    x = np.clip((np.asarray(score_map, dtype=np.float64) - vmin) / span, 0.0, 1.0)
    lut = (colormaps[cmap](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)
    return lut[(x * 255).astype(np.int64)]


def overlay(image: np.ndarray, score_map: np.ndarray, vmin: float, vmax: float, alpha: float = 0.5) -> np.ndarray:
    """Blend the coloured map over the image (``alpha`` = weight of the map)."""
    if image.shape[:2] != score_map.shape:
        raise DataError(f"overlay: image is {image.shape[:2]} but the map is {score_map.shape}; they must match")
    heat = colorize(score_map, vmin, vmax).astype(np.float32)
    return (alpha * heat + (1 - alpha) * image.astype(np.float32)).round().astype(np.uint8)


def outline(image: np.ndarray, mask: np.ndarray, colour: Sequence[int] = GT_COLOUR, width: int = 2) -> np.ndarray:
    """The image with the mask's boundary drawn on it."""
    from scipy import ndimage

    m = np.asarray(mask) > 0
    edge = m & ~ndimage.binary_erosion(m, iterations=max(1, width), border_value=0)
    out = image.copy()
    out[edge] = colour
    return out


def _label(panel: np.ndarray, text: str) -> np.ndarray:
    from PIL import Image, ImageDraw

    im = Image.fromarray(panel)
    draw = ImageDraw.Draw(im)
    box = draw.textbbox((0, 0), text)
    draw.rectangle((0, 0, box[2] + 6, box[3] + 4), fill=(0, 0, 0))
    draw.text((3, 1), text, fill=(255, 255, 255))
    return np.asarray(im)


def triptych(
    image: np.ndarray,
    mask: np.ndarray | None,
    score_map: np.ndarray | None,
    vmin: float,
    vmax: float,
    *,
    title: str = "",
) -> np.ndarray:
    """``image | image with ground-truth outline | map overlay`` side by side (``uint8``)."""
    k = max(1, -(-MIN_PANEL // min(image.shape[:2])))

    def big(a: np.ndarray) -> np.ndarray:
        return a if k == 1 else np.repeat(np.repeat(a, k, axis=0), k, axis=1)

    image = big(image)
    mask = None if mask is None else big(np.asarray(mask))
    score_map = None if score_map is None else big(np.asarray(score_map))
    panels = [_label(image, title) if title else image]
    panels.append(_label(outline(image, mask) if mask is not None else image, "ground truth"))
    if score_map is not None:
        panels.append(_label(overlay(image, score_map, vmin, vmax), "anomaly map"))
    gap = np.full((image.shape[0], SEPARATOR, 3), 255, dtype=np.uint8)
    row = [panels[0]]
    for p in panels[1:]:
        row += [gap, p]
    return np.concatenate(row, axis=1)


def save_png(picture: np.ndarray, path: str | Path) -> Path:
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(picture, dtype=np.uint8)).save(path)
    return path
