"""How sure each loader is that it reads a bare path (``DatasetCard.probe``): folder names only, no file read.

All four loaders take a folder, so ``omniad fit pointcloud.btf_fpfh DIR`` needs to know
whether ``DIR`` (or each category folder in it) is in the MVTec 3D-AD, Real3D-AD or
Anomaly-ShapeNet layout; anything else with clouds in it is ``pointcloud.folder``'s, which
also takes single cloud files. The released layouts are named by folders only they have
(``train/good/xyz``, ``gt``, ``GT``), so they win over the generic loader where present.
Only names are looked at: a probe must be cheap and import nothing heavy.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from omniad_pointcloud.io import SUFFIXES

#: folders looked into below a path (a category folder, or a root of categories)
_MAX_CHILDREN = 200


def _candidates(path: Path) -> Iterator[Path]:
    """The folder itself and its visible subfolders (where category folders would be)."""
    yield path
    children = (d for d in sorted(path.iterdir()) if d.is_dir() and not d.name.startswith("."))
    yield from islice(children, _MAX_CHILDREN)


def _names(folder: Path) -> set[str]:
    return {d.name for d in folder.iterdir()} if folder.is_dir() else set()


def mvtec3d(path: Path) -> float:
    path = Path(path)
    if not path.is_dir():
        return 0.0
    return 1.0 if any((d / "train" / "good" / "xyz").is_dir() for d in _candidates(path)) else 0.0


def _real3d_like(path: Path, gt_folder: str) -> float:
    path = Path(path)
    if not path.is_dir():
        return 0.0
    for d in _candidates(path):
        names = _names(d)
        if {"train", "test", gt_folder} <= names:  # exact names: GT and gt tell the two layouts apart
            return 0.9
    return 0.0


def real3d(path: Path) -> float:
    return _real3d_like(path, "gt")


def anomaly_shapenet(path: Path) -> float:
    return _real3d_like(path, "GT")


def folder(path: Path) -> float:
    """1 for a cloud file; 0.5 for a folder with a cloud file somewhere in it (the released layouts rank above)."""
    path = Path(path)
    if path.is_file():
        return 1.0 if path.suffix.lower() in SUFFIXES else 0.0
    if not path.is_dir():
        return 0.0
    return 0.5 if any(f.suffix.lower() in SUFFIXES and f.is_file() for f in path.rglob("*")) else 0.0
