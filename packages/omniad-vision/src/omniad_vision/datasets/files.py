"""Building splits from image files: headers read up front, pixels decoded lazily.

Reading every header when a subset is listed costs milliseconds per file and turns a
non-image, an unreadable file or a mask of the wrong size into an error that names the
file before any model is fitted; pixel decoding waits until a detector asks for the image.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omniad.data import Split
from omniad.errors import DataError
from omniad_vision.images import IMAGE_SUFFIXES, ImageFiles, MaskFiles, image_size, list_images
from omniad_vision.paths import shared_data_dir


@dataclass(frozen=True)
class TestImage:
    path: Path
    label: int
    mask: Path | None
    id: str


def default_root(root: Path | None, name: str, where: str) -> Path:
    root = shared_data_dir() / "data" / name if root is None else Path(root).expanduser()
    if not root.is_dir():
        raise DataError(
            f"{where}: dataset root {root} does not exist; pass root=... or set OMNIAD_SHARED_DATA "
            f"so that $OMNIAD_SHARED_DATA/data/{name} holds the data"
        )
    return root


def select_categories(found: Sequence[str], wanted: Sequence[str] | None, root: Path, where: str) -> list[str]:
    if not found:
        raise DataError(f"{where}: no categories under {root}; each category needs a train/ folder")
    if wanted is None:
        return list(found)
    missing = [c for c in wanted if c not in found]
    if missing:
        raise DataError(f"{where}: categories {missing} not found under {root}; available: {', '.join(found)}")
    return list(wanted)


def find_mask(folder: Path, stem: str, suffixes: Sequence[str]) -> Path | None:
    for suffix in suffixes:
        for ext in IMAGE_SUFFIXES:
            for candidate in (folder / f"{stem}{suffix}{ext}", folder / f"{stem}{suffix}{ext.upper()}"):
                if candidate.is_file():
                    return candidate
    return None


def train_split(paths: list[Path], folder: Path, where: str, max_train: int | None = None) -> Split:
    if not paths:
        raise DataError(f"{where}: no training images in {folder}; the train folder must hold normal images")
    if max_train is not None:
        paths = paths[:max_train]
    for p in paths:
        image_size(p, where)
    return Split(samples=ImageFiles(paths, where), ids=[p.name for p in paths])


def check_mask_sizes(items: Sequence[TestImage], shapes: Sequence[tuple[int, int]], where: str) -> None:
    """Every mask must have its image's size (headers only)."""
    for t, shape in zip(items, shapes, strict=True):
        if t.mask is not None:
            mh, mw = image_size(t.mask, where)
            if (mh, mw) != shape:
                raise DataError(
                    f"{where}: mask {t.mask} is {mw}x{mh} (WxH) but image {t.path} is "
                    f"{shape[1]}x{shape[0]}; masks must have the image's size"
                )


def test_split(items: Sequence[TestImage], where: str, *, with_masks: bool = True) -> Split:
    if not items:
        raise DataError(f"{where}: no test images found")
    shapes = [image_size(t.path, where) for t in items]
    if with_masks:
        check_mask_sizes(items, shapes, where)
    targets = MaskFiles([t.mask for t in items], shapes, where) if with_masks else None
    return Split(
        samples=ImageFiles([t.path for t in items], where),
        labels=np.array([t.label for t in items], dtype=np.int8),
        targets=targets,
        ids=[t.id for t in items],
        meta={"defect": [t.id.split("/", 1)[0] for t in items]},
    )


def labelled_folder(folder: Path, label: int, mask_folder: Path | None, mask_suffixes: Sequence[str], where: str) -> list[TestImage]:
    """Test images of one folder; anomalous ones must have a mask when ``mask_folder`` is given."""
    out = []
    for p in list_images(folder, where):
        mask = None
        if label == 1 and mask_folder is not None:
            mask = find_mask(mask_folder, p.stem, mask_suffixes)
            if mask is None:
                expected = mask_folder / f"{p.stem}{mask_suffixes[0]}.png"
                raise DataError(
                    f"{where}: anomalous image {p} has no mask (expected {expected}); add the mask "
                    "or remove the image"
                )
        out.append(TestImage(p, label, mask, f"{folder.name}/{p.name}"))
    return out
