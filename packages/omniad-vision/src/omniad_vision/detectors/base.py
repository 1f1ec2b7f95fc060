"""What every vision detector takes in ``fit`` / ``score`` (:meth:`VisionDetector._coerce`).

- a sequence of images: arrays ``(H, W, 3)`` / ``(H, W)`` / ``(H, W, 4)``, image paths, PIL images,
  or a dataset's lazy ``ImageFiles``;
- one image given bare: an ``(H, W, 3)``, ``(H, W, 4)``, ``(H, W, 1)`` or ``(H, W)`` array, or a PIL
  image, is ONE image (not H samples of rows);
- an ``(N, H, W, 3)`` array: N images;
- a path to an image file or a folder of images (read by the core with ``vision.folder``).

Anything else fails here with a message naming what was received and what to pass, instead
of a shape error inside torch. Pixel values are checked per image by ``images.as_rgb``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from omniad.detector import Detector
from omniad.errors import DataError

WHAT_TO_PASS = ("pass one image as an (H, W, 3) or (H, W) array, several as a list of arrays or image paths or an "
                "(N, H, W, 3) array, or the path of an image file or a folder of images")


def _is_pil(x: Any) -> bool:
    return hasattr(x, "convert") and hasattr(x, "size") and not isinstance(x, np.ndarray)


def _image_like(x: Any) -> bool:
    return isinstance(x, (np.ndarray, str, os.PathLike)) or _is_pil(x) or hasattr(x, "__array__")


class VisionDetector(Detector):
    """Base of the vision detectors: turns what a user passed into a sequence of images."""

    def _coerce(self, samples: Any, where: str) -> Any:
        if _is_pil(samples):
            return [samples]
        if not isinstance(samples, np.ndarray) and hasattr(samples, "__array__") and not isinstance(
                samples, (list, tuple)) and not hasattr(samples, "paths"):
            if hasattr(samples, "columns"):  # a pandas DataFrame has __array__ too
                raise DataError(f"{where}: got a {type(samples).__name__}, which is a table, not an image; "
                                f"{WHAT_TO_PASS}")
            samples = np.asarray(samples)  # a torch tensor or another array type
        if isinstance(samples, np.ndarray):
            return self._array(samples, where)
        if isinstance(samples, (str, bytes, os.PathLike)) or not hasattr(samples, "__len__") or not hasattr(
                samples, "__getitem__") or isinstance(samples, dict):
            raise DataError(f"{where}: got {type(samples).__name__}; {WHAT_TO_PASS}")
        if isinstance(samples, (list, tuple)):
            for i, item in enumerate(samples):
                if not _image_like(item):
                    hint = ""
                    if isinstance(item, (int, float, np.number)):
                        hint = (" (a list of numbers is not an image: for one image pass np.asarray(pixels) "
                                "shaped (H, W, 3))")
                    elif isinstance(item, (list, tuple)):
                        hint = " (nested lists: pass np.asarray(...) of each image)"
                    raise DataError(f"{where}: item #{i} is a {type(item).__name__}, not an image{hint}; "
                                    f"{WHAT_TO_PASS}")
        return samples

    @staticmethod
    def _array(a: np.ndarray, where: str) -> list[Any]:
        if a.dtype == object and a.ndim == 1:  # images of different sizes held in an object array
            return list(a)
        if a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (1, 3, 4)):
            return [a]
        if a.ndim == 4 and a.shape[3] in (1, 3, 4):
            return list(a)
        hint = ""
        if a.ndim == 3 and a.shape[0] in (1, 3, 4):
            hint = "; it looks channels-first: pass arr.transpose(1, 2, 0)"
        elif a.ndim == 4 and a.shape[1] in (1, 3, 4):
            hint = "; it looks channels-first: pass arr.transpose(0, 2, 3, 1)"
        elif a.ndim == 3:
            hint = "; for N grayscale images pass a list of (H, W) arrays"
        raise DataError(f"{where}: got an array of shape {a.shape}{hint}; {WHAT_TO_PASS}")
