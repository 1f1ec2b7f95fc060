"""How sure each image loader is that it reads a bare path (``DatasetCard.probe``): names only, no pixels.

``vision.folder`` reads any folder holding images, or one image file. The benchmark layouts
are told by folders only they have: ``<category>/train/good`` (MVTec AD; MPDD when the path
names ``mpdd``, since the two layouts are the same), ``train/ok`` (BTAD) and
``split_csv/1cls.csv`` (VisA). They rank above the generic loader, which still reads such a
folder the same way if asked (``--loader vision.folder``). No torch, no image decoding here.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from omniad_vision.images import IMAGE_SUFFIXES

#: folders looked into below a path (a category folder, or a root of categories)
_MAX_CHILDREN = 200


def _candidates(path: Path) -> Iterator[Path]:
    """The folder itself and its visible subfolders (where category folders would be)."""
    yield path
    children = (d for d in sorted(path.iterdir()) if d.is_dir() and not d.name.startswith("."))
    yield from islice(children, _MAX_CHILDREN)


def _layout(path: Path, good: str) -> bool:
    path = Path(path)
    return path.is_dir() and any((d / "train" / good).is_dir() and (d / "test").is_dir() for d in _candidates(path))


def _names_mpdd(path: Path) -> bool:
    return any("mpdd" in part.lower() for part in Path(path).resolve().parts)


def mvtec(path: Path) -> float:
    return 0.9 if _layout(path, "good") else 0.0


def mpdd(path: Path) -> float:
    return 1.0 if _names_mpdd(path) and _layout(path, "good") else 0.0


def btad(path: Path) -> float:
    return 0.9 if _layout(path, "ok") else 0.0


def visa(path: Path) -> float:
    path = Path(path)
    return 0.9 if path.is_dir() and (path / "split_csv" / "1cls.csv").is_file() else 0.0


def folder(path: Path) -> float:
    """1 for an image file; 0.5 for a folder with an image somewhere below it (the benchmark layouts rank above)."""
    path = Path(path)
    if path.is_file():
        return 1.0 if path.suffix.lower() in IMAGE_SUFFIXES else 0.0
    if not path.is_dir():
        return 0.0
    return 0.5 if any(f.suffix.lower() in IMAGE_SUFFIXES and f.is_file() for f in path.rglob("*")) else 0.0
