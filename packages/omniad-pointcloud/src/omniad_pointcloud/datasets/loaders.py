"""Loaders for the real 3D anomaly dataset layouts and generic folders.

Each follows the published folder layout (written by :mod:`omniad_pointcloud.datasets.generator`
for the tests; see ``docs/datasets.md`` for the layouts and what was checked). Every file is
read through :mod:`omniad_pointcloud.io`, so a malformed file fails naming itself, and a
ground-truth file that does not match its scan fails naming both.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from omniad.data import Split, Subset
from omniad.errors import DataError
from omniad_pointcloud.cloud import PointCloud
from omniad_pointcloud.datasets.base import CloudDataset
from omniad_pointcloud.datasets.params import FolderParams, MVTec3DParams, RootParams
from omniad_pointcloud.io import SUFFIXES, read_cloud, read_labelled_txt, read_xyz_tiff


def _categories(p: RootParams, where: str) -> list[Path]:
    root = Path(p.root)
    if not root.is_dir():
        raise DataError(f"{where}: dataset folder {root} does not exist; set root to the extracted dataset")
    found = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if p.categories:
        missing = [c for c in p.categories if not (root / c).is_dir()]
        if missing:
            raise DataError(f"{where}: categories {missing} not found under {root}; found {[d.name for d in found]}")
        return [root / c for c in p.categories]
    if not found:
        raise DataError(f"{where}: {root} holds no category folders")
    return found


def _files(folder: Path, suffixes: tuple[str, ...], where: str) -> list[Path]:
    if not folder.is_dir():
        raise DataError(f"{where}: expected folder {folder} is missing")
    files = sorted(f for f in folder.iterdir() if f.suffix.lower() in suffixes)
    if not files:
        raise DataError(f"{where}: {folder} holds no {'/'.join(suffixes)} files")
    return files


def _with_labels(cloud: PointCloud, gt: Path) -> tuple[PointCloud, np.ndarray]:
    """Labels from an ``x y z label`` file; its points must be the scan's (same count, same order)."""
    points, labels = read_labelled_txt(gt)
    if len(points) != len(cloud):
        raise DataError(f"{gt}: {len(points)} labelled points but the scan {cloud.name} has {len(cloud)}; "
                        "the ground truth belongs to another scan")
    if not np.allclose(points, cloud.points, atol=1e-4):
        raise DataError(f"{gt}: labelled points differ from the scan {cloud.name}'s points")
    return cloud, labels


class MVTec3D(CloudDataset):
    """MVTec 3D-AD: organised xyz TIFFs, gt PNG masks laid onto the valid points."""

    Params = MVTec3DParams

    def _read(self, xyz: Path, split_dir: Path) -> PointCloud:
        colors = None
        if self.params.use_rgb:
            from PIL import Image

            rgb = split_dir / "rgb" / f"{xyz.stem}.png"
            if not rgb.is_file():
                raise DataError(f"{rgb}: the colour image of {xyz} is missing (or set use_rgb=false)")
            colors = np.asarray(Image.open(rgb).convert("RGB"))
        return PointCloud.from_grid(read_xyz_tiff(xyz), colors=colors, name=str(xyz))

    def iter_subsets(self) -> Iterator[Subset]:
        from PIL import Image

        where = self.where
        for cat in _categories(self.params, where):
            train_dir = cat / "train" / "good"
            train = [self._read(f, train_dir) for f in _files(train_dir / "xyz", (".tiff", ".tif"), where)]
            samples, targets, ids = [], [], []
            test_root = cat / "test"
            if not test_root.is_dir():
                raise DataError(f"{where}: expected folder {test_root} is missing")
            for kind_dir in sorted(d for d in test_root.iterdir() if d.is_dir()):
                for f in _files(kind_dir / "xyz", (".tiff", ".tif"), where):
                    cloud = self._read(f, kind_dir)
                    gt = kind_dir / "gt" / f"{f.stem}.png"
                    if gt.is_file():
                        mask = np.asarray(Image.open(gt).convert("L")) > 0
                        if mask.shape != cloud.grid.shape:
                            raise DataError(f"{gt}: mask {mask.shape} does not match the xyz grid {cloud.grid.shape} of {f}")
                        target = mask[cloud.grid >= 0].astype(np.int8)
                    elif kind_dir.name == "good":
                        target = np.zeros(len(cloud), np.int8)
                    else:
                        raise DataError(f"{gt}: ground-truth mask of defective scan {f} is missing")
                    samples.append(cloud)
                    targets.append(target)
                    ids.append(f"{kind_dir.name}/{f.stem}")
            yield Subset(name=cat.name, train=Split(samples=train, ids=[c.name for c in train]),
                         test=Split(samples=samples, targets=targets, ids=ids))


class Real3D(CloudDataset):
    """Real3D-AD: ``train/*template*.pcd``, ``test/*.pcd``, ``gt/<name>.txt`` (x y z label)."""

    Params = RootParams
    gt_folder = "gt"
    normal_pattern = re.compile(r"good")

    def _is_normal(self, stem: str) -> bool:
        return bool(self.normal_pattern.search(stem))

    def iter_subsets(self) -> Iterator[Subset]:
        where = self.where
        for cat in _categories(self.params, where):
            train = [read_cloud(f) for f in _files(cat / "train", (".pcd", ".ply"), where)]
            samples, targets, ids = [], [], []
            for f in _files(cat / "test", (".pcd", ".ply"), where):
                cloud = read_cloud(f)
                gt = cat / self.gt_folder / f"{f.stem}.txt"
                if gt.is_file():
                    cloud, target = _with_labels(cloud, gt)
                elif self._is_normal(f.stem):
                    target = np.zeros(len(cloud), np.int8)
                else:
                    raise DataError(f"{gt}: ground truth of defective scan {f} is missing")
                samples.append(cloud)
                targets.append(target)
                ids.append(f.stem)
            yield Subset(name=cat.name, train=Split(samples=train, ids=[c.name for c in train]),
                         test=Split(samples=samples, targets=targets, ids=ids))


class AnomalyShapeNet(Real3D):
    """Anomaly-ShapeNet: as Real3D-AD, with ``GT/`` and ``positive`` naming the normal test clouds."""

    gt_folder = "GT"
    normal_pattern = re.compile(r"positive")


class Folder(CloudDataset):
    """Generic: ``train/good/*``, ``test/<kind>/*``, optional ``ground_truth/<kind>/<stem>.{txt,npy}``."""

    Params = FolderParams

    def iter_subsets(self) -> Iterator[Subset]:
        where = self.where
        for cat in _categories(self.params, where):
            train = [read_cloud(f) for f in _files(cat / "train" / "good", SUFFIXES, where)]
            samples, targets, ids = [], [], []
            test_root = cat / "test"
            if not test_root.is_dir():
                raise DataError(f"{where}: expected folder {test_root} is missing")
            for kind_dir in sorted(d for d in test_root.iterdir() if d.is_dir()):
                for f in _files(kind_dir, SUFFIXES, where):
                    cloud = read_cloud(f)
                    target = self._target(cat, kind_dir.name, f, len(cloud))
                    samples.append(cloud)
                    targets.append(target)
                    ids.append(f"{kind_dir.name}/{f.stem}")
            yield Subset(name=cat.name, train=Split(samples=train, ids=[c.name for c in train]),
                         test=Split(samples=samples, targets=targets, ids=ids))

    def _target(self, cat: Path, kind: str, f: Path, n: int) -> np.ndarray:
        if kind == "good":
            return np.zeros(n, np.int8)
        for suffix in (".txt", ".npy"):
            gt = cat / "ground_truth" / kind / f"{f.stem}{suffix}"
            if gt.is_file():
                labels = np.load(gt) if suffix == ".npy" else np.loadtxt(gt, ndmin=1)
                labels = np.asarray(labels).reshape(-1)
                if len(labels) != n:
                    raise DataError(f"{gt}: {len(labels)} labels but {f} has {n} points")
                if not np.isin(labels, (0, 1)).all():
                    raise DataError(f"{gt}: labels must be 0 or 1")
                return labels.astype(np.int8)
        # no per-point labels: the whole cloud is anomalous (object-level only)
        return np.ones(n, np.int8)
