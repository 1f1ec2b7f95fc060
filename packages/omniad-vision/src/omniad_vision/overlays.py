"""Pictures of anomaly maps that people look at: heat-map overlays, outlined regions, side-by-side panels.

Public helpers (documented in ``docs/pictures.md``); every one returns an RGB ``uint8`` array
``(H, W, 3)`` that :func:`save_png` writes:

- :func:`colorize`: a score map in a matplotlib colour map;
- :func:`overlay`: that colour map blended over the image;
- :func:`outline`: the boundary of a 0/1 region drawn on the image;
- :func:`decision_picture`: ``image with the flagged region (and ground truth) outlined | heat-map
  overlay with the flagged region outlined``, what ``omniad score`` draws for images;
- :func:`triptych`: ``image | ground truth | heat map``, what benchmark reports draw.

Images may be anything a detector takes (a path, an RGB / grayscale / RGBA array, floats in
``[0, 1]``, a PIL image). Maps of one set of pictures should share one colour scale
(``vmin``/``vmax`` from all maps), so a hot spot means the same score in every picture; a
per-image scale (the default when ``vmin``/``vmax`` are None) makes a normal image's noise
look as alarming as a real defect.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from omniad.errors import ConfigError, DataError
from omniad_vision.images import as_rgb

__all__ = [
    "GT_COLOUR", "REGION_COLOUR", "colorize", "decision_picture", "outline", "overlay", "save_png", "triptych",
]

GT_COLOUR = (0, 255, 0)
REGION_COLOUR = (255, 32, 32)
SEPARATOR = 4
MIN_PANEL = 192  # small images are enlarged (nearest) so the picture and its caption stay legible


def _map(score_map: Any, where: str, shape: tuple[int, ...] | None = None, what: str = "the map") -> np.ndarray:
    try:
        a = np.asarray(score_map, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{where}: {what} must be a 2-D array of numbers, got {type(score_map).__name__}") from None
    if a.ndim != 2:
        raise DataError(f"{where}: {what} must be 2-D (H, W), got shape {a.shape}")
    if shape is not None and a.shape != tuple(shape):
        raise DataError(f"{where}: image is {tuple(shape)} but {what} is {a.shape}; they must match "
                        "(maps from omniad detectors have the input image's size)")
    return a


def _scale(a: np.ndarray, vmin: float | None, vmax: float | None, where: str) -> tuple[float, float]:
    finite = a[np.isfinite(a)]
    lo = float(finite.min()) if vmin is None and finite.size else (0.0 if vmin is None else float(vmin))
    hi = float(finite.max()) if vmax is None and finite.size else (1.0 if vmax is None else float(vmax))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise DataError(f"{where}: vmin/vmax must be finite numbers, got {vmin!r}, {vmax!r}")
    return lo, hi


def colorize(score_map: Any, vmin: float | None = None, vmax: float | None = None, cmap: str = "jet") -> np.ndarray:
    """Scores -> ``uint8 (H, W, 3)`` colours of a matplotlib colour map over ``[vmin, vmax]`` (clipped).

    ``vmin``/``vmax`` None: the map's own finite minimum/maximum. NaN scores get the lowest colour.
    """
    from matplotlib import colormaps

    a = _map(score_map, "colorize")
    lo, hi = _scale(a, vmin, vmax, "colorize")
    if cmap not in colormaps:
        raise ConfigError(f"colorize: unknown colour map {cmap!r}; use a matplotlib name such as jet, viridis, magma")
    span = hi - lo if hi > lo else 1.0
    x = np.nan_to_num(np.clip((a - lo) / span, 0.0, 1.0), nan=0.0)
    lut = (colormaps[cmap](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)
    return lut[(x * 255).astype(np.int64)]


def overlay(image: Any, score_map: Any, vmin: float | None = None, vmax: float | None = None,
            alpha: float = 0.5, cmap: str = "jet") -> np.ndarray:
    """The coloured map blended over the image (``alpha`` = weight of the map, in [0, 1])."""
    rgb = as_rgb(image, "overlay: the image")
    a = _map(score_map, "overlay", rgb.shape[:2])
    if not 0.0 <= float(alpha) <= 1.0:
        raise ConfigError(f"overlay: alpha={alpha} must be in [0, 1] (the weight of the heat map)")
    heat = colorize(a, vmin, vmax, cmap).astype(np.float32)
    return (alpha * heat + (1 - alpha) * rgb.astype(np.float32)).round().astype(np.uint8)


def outline(image: Any, mask: Any, colour: Sequence[int] = GT_COLOUR, width: int = 2) -> np.ndarray:
    """The image with the boundary of the mask's region (non-zero pixels) drawn in ``colour``, ``width`` pixels wide."""
    from scipy import ndimage

    rgb = as_rgb(image, "outline: the image")
    m = _map(mask, "outline", rgb.shape[:2], "the mask") > 0
    if len(colour) != 3 or not all(0 <= int(c) <= 255 for c in colour):
        raise ConfigError(f"outline: colour {tuple(colour)!r} must be three values 0..255 (R, G, B)")
    if int(width) < 1:
        raise ConfigError(f"outline: width={width} must be at least 1 pixel")
    edge = m & ~ndimage.binary_erosion(m, iterations=int(width), border_value=0)
    out = rgb.copy()
    out[edge] = np.asarray(colour, dtype=np.uint8)
    return out


def _label(panel: np.ndarray, text: str, *, bottom: bool = False) -> np.ndarray:
    from PIL import Image, ImageDraw

    im = Image.fromarray(panel)
    draw = ImageDraw.Draw(im)
    box = draw.textbbox((0, 0), text)
    top = panel.shape[0] - box[3] - 4 if bottom else 0
    draw.rectangle((0, top, box[2] + 6, top + box[3] + 4), fill=(0, 0, 0))
    draw.text((3, top + 1), text, fill=(255, 255, 255))
    return np.asarray(im)


def _enlarge(min_side: int) -> int:
    """The nearest-neighbour factor that brings a small image to at least ``MIN_PANEL`` pixels."""
    return max(1, -(-MIN_PANEL // max(1, min_side)))


def _big(a: np.ndarray | None, k: int) -> np.ndarray | None:
    if a is None or k == 1:
        return a
    return np.repeat(np.repeat(a, k, axis=0), k, axis=1)


def _row(panels: list[np.ndarray]) -> np.ndarray:
    gap = np.full((panels[0].shape[0], SEPARATOR, 3), 255, dtype=np.uint8)
    row = [panels[0]]
    for p in panels[1:]:
        row += [gap, p]
    return np.concatenate(row, axis=1)


def triptych(
    image: Any,
    mask: Any | None,
    score_map: Any | None,
    vmin: float | None = None,
    vmax: float | None = None,
    *,
    title: str = "",
) -> np.ndarray:
    """``image | image with ground-truth outline | map overlay`` side by side (``uint8``); the map panel only with a map."""
    rgb = as_rgb(image, "triptych: the image")
    shape = rgb.shape[:2]
    truth = None if mask is None else _map(mask, "triptych", shape, "the mask")
    heat = None if score_map is None else _map(score_map, "triptych", shape)
    if heat is not None:
        vmin, vmax = _scale(heat, vmin, vmax, "triptych")
    k = _enlarge(min(shape))
    rgb, truth, heat = _big(rgb, k), _big(truth, k), _big(heat, k)
    assert rgb is not None
    panels = [_label(rgb, title) if title else rgb]
    panels.append(_label(outline(rgb, truth) if truth is not None else rgb, "ground truth"))
    if heat is not None:
        panels.append(_label(overlay(rgb, heat, vmin, vmax), "anomaly map"))
    return _row(panels)


def decision_picture(
    image: Any,
    score_map: Any | None,
    *,
    threshold: float | None = None,
    region: Any | None = None,
    truth: Any | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    title: str = "",
) -> np.ndarray:
    """``image with the flagged region outlined | heat-map overlay with it outlined`` (``uint8``).

    The flagged region is ``score_map > threshold`` (the rule of ``omniad score``) or a 0/1
    ``region`` given directly; ``truth``, a ground-truth mask, is outlined in green on the first
    panel. Without a map (image-level detectors) the picture is the image with its title.
    """
    rgb = as_rgb(image, "decision_picture: the image")
    shape = rgb.shape[:2]
    if threshold is not None and region is not None:
        raise ConfigError("decision_picture: give threshold or region, not both")
    heat = None if score_map is None else _map(score_map, "decision_picture", shape)
    if threshold is not None:
        if heat is None:
            raise ConfigError("decision_picture: a threshold needs a score map")
        if not math.isfinite(float(threshold)):
            raise ConfigError(f"decision_picture: threshold {threshold!r} must be a finite number")
        flagged = heat > float(threshold)
    else:
        flagged = None if region is None else _map(region, "decision_picture", shape, "the region") > 0
    gt = None if truth is None else _map(truth, "decision_picture", shape, "the ground truth") > 0
    if heat is not None:
        lo, hi = _scale(heat, vmin, vmax, "decision_picture")
        if threshold is not None:  # keep the threshold inside the scale, so a flagged pixel is never the coldest colour
            lo, hi = min(lo, float(threshold)), max(hi, float(threshold))
    k = _enlarge(min(shape))
    big_rgb, heat, flagged, gt = _big(rgb, k), _big(heat, k), _big(flagged, k), _big(gt, k)
    assert big_rgb is not None
    width = max(2, min(big_rgb.shape[:2]) // 160)
    left = big_rgb if gt is None else outline(big_rgb, gt, GT_COLOUR, width)
    if flagged is not None:
        left = outline(left, flagged, REGION_COLOUR, width)
    panels = [_label(left, title) if title else left]
    if heat is not None:
        right = overlay(big_rgb, heat, lo, hi)
        if flagged is not None:
            right = outline(right, flagged, (255, 255, 255), width)
        panels.append(_label(right, f"anomaly map {lo:.3g} .. {hi:.3g}"))
    legend = "red: flagged pixels" if flagged is not None else ""
    if gt is not None:
        legend += ("; " if legend else "") + "green: ground truth"
    if legend:
        panels[0] = _label(panels[0], legend, bottom=True)
    return _row(panels)


def save_png(picture: Any, path: str | Path) -> Path:
    """Write an ``(H, W, 3)`` / ``(H, W)`` ``uint8`` picture as PNG, creating the folder; returns the path."""
    from PIL import Image

    a = np.asarray(picture)
    if a.dtype != np.uint8 or a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise DataError(f"save_png: a picture is a uint8 array (H, W, 3) or (H, W), got {a.dtype} {a.shape}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(a).save(path)
    return path
