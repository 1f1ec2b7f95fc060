"""Image input for every vision component: one place that turns files and arrays into RGB.

The vision sample convention (see ``docs/conventions.md``): a sample is an RGB ``uint8``
array ``(H, W, 3)`` at the image's original resolution, or a path to an image file.
Grayscale images are replicated to three channels and an alpha channel is dropped (alpha
is composited on nothing, i.e. simply ignored), because industrial datasets mix such files
and every backbone here expects RGB. Float arrays are accepted only when they lie in
``[0, 1]``; anything else fails with a ``DataError`` naming the sample, so that a bad file
is reported here instead of as a shape error deep inside torch.

Datasets hand out ``ImageFiles`` / ``MaskFiles``: lazy sequences that read one file per
``__getitem__``, so a benchmark never holds a whole category's pixels in memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, overload

import numpy as np

from omniad.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
PathLike = str | os.PathLike


def _open(path: Path, where: str) -> Any:
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise DataError(f"{where}: image file {path} does not exist; check the dataset root and layout")
    try:
        return Image.open(path)
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"{where}: {path} is not a readable image ({exc}); re-export or remove the file") from None


@contextmanager
def _decoded(path: Path, where: str, what: str, hint: str) -> Iterator[Any]:
    """The opened image with its pixels loaded; truncated or corrupt data fails with a ``DataError``."""
    with _open(path, where) as im:
        try:
            im.load()
        except (OSError, ValueError, SyntaxError) as exc:  # truncated / corrupt pixel data
            raise DataError(f"{where}: cannot decode {what}{path} ({exc}); the file is truncated or corrupt{hint}") from None
        yield im


def image_size(path: PathLike, where: str = "image") -> tuple[int, int]:
    """``(H, W)`` from the file header only (no pixel decoding)."""
    with _open(Path(path), where) as im:
        width, height = im.size
    return height, width


def read_rgb(path: PathLike, where: str = "image") -> np.ndarray:
    """Decode an image file to ``uint8 (H, W, 3)``; grayscale, palette, RGBA and 16-bit become RGB."""
    with _decoded(Path(path), where, "", ", re-copy it from the original dataset") as im:
        if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
            arr = np.asarray(im, dtype=np.float64)
            hi = float(arr.max()) or 1.0
            return np.repeat((arr / hi * 255.0).round().astype(np.uint8)[..., None], 3, axis=2)
        return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def read_mask(path: PathLike, where: str = "mask", shape: tuple[int, int] | None = None) -> np.ndarray:
    """Decode a ground-truth mask to ``uint8 (H, W)`` with values 0/1 (any non-zero pixel is anomalous)."""
    path = Path(path)
    with _decoded(path, where, "mask ", "") as im:
        arr = np.asarray(im.convert("L") if im.mode not in ("L", "1", "I", "I;16", "F") else im)
    if arr.ndim != 2:
        arr = arr[..., 0]
    mask = (arr > 0).astype(np.uint8)
    if shape is not None and mask.shape != tuple(shape):
        raise DataError(
            f"{where}: mask {path} is {mask.shape[1]}x{mask.shape[0]} (WxH) but its image is "
            f"{shape[1]}x{shape[0]}; masks must have the image's size"
        )
    return mask


def as_rgb(sample: Any, where: str) -> np.ndarray:
    """Any accepted sample (path, uint8/float array, 2-D/3-D) as ``uint8 (H, W, 3)``."""
    if isinstance(sample, (str, os.PathLike)):
        return read_rgb(sample, where)
    if hasattr(sample, "convert") and hasattr(sample, "size") and not isinstance(sample, np.ndarray):
        return np.asarray(sample.convert("RGB"), dtype=np.uint8)  # a PIL image
    try:
        arr = np.asarray(sample)
    except Exception:
        arr = None
    if arr is None or arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise DataError(
            f"{where}: expected an RGB image array (H, W, 3) or an image path, got {type(sample).__name__}"
        )
    if arr.ndim == 3 and arr.shape[0] in (1, 3, 4) and arr.shape[2] not in (1, 3, 4):
        raise DataError(
            f"{where}: image has shape {arr.shape}, which looks channels-first; pass (H, W, 3), "
            "e.g. arr.transpose(1, 2, 0)"
        )
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[..., :3]
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise DataError(f"{where}: image must have shape (H, W), (H, W, 3) or (H, W, 4), got {arr.shape}")
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        raise DataError(f"{where}: image is {arr.shape[1]}x{arr.shape[0]} pixels; at least 2x2 is needed")
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == bool:
        return arr.astype(np.uint8) * 255
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)):
            raise DataError(f"{where}: image contains NaN/inf pixels; fix or drop the image")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0.0 or hi > 1.0:
            raise DataError(
                f"{where}: float image values span [{lo:.3g}, {hi:.3g}]; float images must lie in [0, 1] "
                "(or pass uint8 0..255)"
            )
        return (arr * 255.0).round().astype(np.uint8)
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or hi > 255:
        raise DataError(
            f"{where}: integer image values span [{lo}, {hi}]; pass uint8 0..255 "
            "(scale 16-bit images down first)"
        )
    return arr.astype(np.uint8)


def as_rgb_list(samples: Sequence[Any], where: str) -> list[np.ndarray]:
    return [as_rgb(samples[i], f"{where}, image {i}") for i in range(len(samples))]


class LazyFiles(Sequence[np.ndarray]):
    """A sequence that decodes one file per ``__getitem__``; slicing stays lazy."""

    paths: list[Any]

    def __len__(self) -> int:
        return len(self.paths)

    @overload
    def __getitem__(self, index: int) -> np.ndarray: ...
    @overload
    def __getitem__(self, index: slice) -> LazyFiles: ...
    def __getitem__(self, index: int | slice) -> np.ndarray | LazyFiles:
        if isinstance(index, slice):
            return self._slice(index)
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self._load(index)

    def _load(self, index: int) -> np.ndarray:
        raise NotImplementedError

    def _slice(self, index: slice) -> LazyFiles:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} files)"


class ImageFiles(LazyFiles):
    """Lazy RGB images: indexing reads and decodes one file."""

    def __init__(self, paths: Sequence[PathLike], where: str = "dataset") -> None:
        self.paths = [Path(p) for p in paths]
        self.where = where

    def _load(self, index: int) -> np.ndarray:
        return read_rgb(self.paths[index], self.where)

    def _slice(self, index: slice) -> ImageFiles:
        return ImageFiles(self.paths[index], self.where)


class MaskFiles(LazyFiles):
    """Lazy 0/1 masks; ``None`` paths give an all-zero mask of the recorded image shape."""

    def __init__(
        self, paths: Sequence[PathLike | None], shapes: Sequence[tuple[int, int]], where: str = "dataset"
    ) -> None:
        if len(paths) != len(shapes):
            raise DataError(f"{where}: {len(paths)} mask paths but {len(shapes)} image shapes")
        self.paths = [None if p is None else Path(p) for p in paths]
        self.shapes = [tuple(s) for s in shapes]
        self.where = where

    def _load(self, index: int) -> np.ndarray:
        path, shape = self.paths[index], self.shapes[index]
        if path is None:
            return np.zeros(shape, dtype=np.uint8)
        return read_mask(path, self.where, shape)

    def _slice(self, index: slice) -> MaskFiles:
        return MaskFiles(self.paths[index], self.shapes[index], self.where)


def list_images(folder: Path, where: str, *, required: bool = True) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name (hidden files skipped)."""
    if not folder.is_dir():
        if not required:
            return []
        raise DataError(f"{where}: folder {folder} does not exist; check the dataset root and layout")
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    )
