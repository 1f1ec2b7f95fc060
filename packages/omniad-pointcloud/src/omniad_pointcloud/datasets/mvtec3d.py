"""MVTec 3D-AD: organised xyz TIFFs (zeros where the scanner saw nothing), rgb and gt PNGs.

``<category>/train/good/{xyz,rgb}/NNN.{tiff,png}``, ``<category>/test/<defect|good>/{xyz,rgb,gt}/``;
the gt mask is laid onto the valid pixels, so the target has one label per point in the
cloud's order. ``remove_plane`` drops the background plane first, as BTF's preprocessing
does (a plane fitted by RANSAC to the scan's border pixels; points within ``plane_distance``
of it are dropped); scikit-learn's RANSAC stands in for Open3D's ``segment_plane``. BTF's
further step (keep the largest DBSCAN component) is not done.

A gt mask named after no xyz scan cannot change a label (every defective scan needs its
own), so it is counted (``Subset.meta["counts"]["unmatched_ground_truth"]``) and warned
about rather than refused. A defect kind without a ``gt`` folder at all has object-level labels
(anomalous in every point), counted and warned about as in ``pointcloud.folder``.

With ``split="all"`` each category is one subset of every scan (train, validation and test,
named by their path below ``root``); ``root`` may be one category folder or one xyz TIFF.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from omniad.data import Split, Subset, whole_subset
from omniad.errors import DataError
from omniad_pointcloud.cloud import PointCloud
from omniad_pointcloud.datasets.base import (
    CloudDataset,
    Tally,
    files,
    relative,
    single_file_subset,
    source_categories,
    stray_files,
    subfolders,
)
from omniad_pointcloud.datasets.params import MVTec3DParams
from omniad_pointcloud.io import read_xyz_tiff

_TIFF = (".tiff", ".tif")


def read_png(path: Path, mode: str) -> np.ndarray:
    """A PNG as an array in PIL ``mode`` ("RGB", "L"); a broken file is a DataError naming it."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            return np.asarray(img.convert(mode))
    except (OSError, ValueError, SyntaxError) as exc:  # PIL's UnidentifiedImageError is an OSError
        raise DataError(f"{path}: not a readable image ({type(exc).__name__}: {exc})") from None


def plane_mask(xyz: np.ndarray, border: int, distance: float, seed: int = 0) -> np.ndarray:
    """Pixels of an ``H x W x 3`` scan lying on the background plane seen at its border."""
    from sklearn.linear_model import RANSACRegressor

    valid = np.any(xyz != 0, axis=2) & np.all(np.isfinite(xyz), axis=2)
    edge = np.zeros(valid.shape, bool)
    edge[:border], edge[-border:], edge[:, :border], edge[:, -border:] = True, True, True, True
    pts = xyz[valid & edge]
    if len(pts) < 3:
        return np.zeros(valid.shape, bool)  # nothing at the border: no background plane to remove
    fit = RANSACRegressor(residual_threshold=distance, random_state=seed).fit(pts[:, :2], pts[:, 2])
    a, b = fit.estimator_.coef_
    c = fit.estimator_.intercept_
    dist = np.abs(xyz[..., 2] - (a * xyz[..., 0] + b * xyz[..., 1] + c)) / np.sqrt(a * a + b * b + 1)
    return valid & (dist < distance)


class MVTec3D(CloudDataset):
    Params = MVTec3DParams

    def _read(self, xyz_file: Path, split_dir: Path) -> tuple[PointCloud, np.ndarray]:
        p = self.params
        xyz = read_xyz_tiff(xyz_file)
        keep = np.ones(xyz.shape[:2], bool)
        if p.remove_plane:
            keep = ~plane_mask(xyz, p.plane_border, p.plane_distance)
            xyz = np.where(keep[..., None], xyz, 0.0).astype(np.float32)
        colors = None
        if p.use_rgb:
            rgb = split_dir / "rgb" / f"{xyz_file.stem}.png"
            if not rgb.is_file():
                raise DataError(f"{rgb}: the colour image of {xyz_file} is missing (or set use_rgb=false)")
            colors = read_png(rgb, "RGB")
        try:
            return PointCloud.from_grid(xyz, colors=colors, name=str(xyz_file)), keep
        except DataError as exc:
            raise DataError(f"{xyz_file}: {exc}") from None

    def _target(self, cloud: PointCloud, kind_dir: Path, xyz_file: Path, tally: Tally) -> np.ndarray:
        gt = kind_dir / "gt" / f"{xyz_file.stem}.png"
        if not gt.is_file():
            if kind_dir.name == "good":
                return np.zeros(len(cloud), np.int8)
            if not gt.parent.is_dir():
                tally.add("defective_scans_without_ground_truth", f"{kind_dir.name}/{xyz_file.stem}")
                return np.ones(len(cloud), np.int8)
            raise DataError(f"{gt}: ground-truth mask of defective scan {xyz_file} is missing")
        mask = read_png(gt, "L") > 0
        if mask.shape != cloud.grid.shape:
            raise DataError(f"{gt}: mask {mask.shape} does not match the xyz grid {cloud.grid.shape} of {xyz_file}")
        return mask[cloud.grid >= 0].astype(np.int8)

    def iter_subsets(self) -> Iterator[Subset]:
        where, p, root = self.where, self.params, Path(self.params.root)
        if p.split == "all" and root.is_file():
            yield single_file_subset(root, where)
            return
        for cat in source_categories(p, where, lambda d: (d / "train" / "good" / "xyz").is_dir()):
            tally = Tally(where, cat.name)
            train_dirs = [cat / "train" / "good"]
            if p.split == "all" and (cat / "validation" / "good" / "xyz").is_dir():
                train_dirs.append(cat / "validation" / "good")
            train_files = [(d, f) for d in train_dirs for f in files(d / "xyz", _TIFF, where, tally)]
            train = [self._read(f, d)[0] for d, f in train_files]
            samples, targets, ids = [], [], []
            for kind_dir in subfolders(cat / "test", where):
                scans = files(kind_dir / "xyz", _TIFF, where, tally)
                for f in scans:
                    cloud, _ = self._read(f, kind_dir)
                    samples.append(cloud)
                    targets.append(self._target(cloud, kind_dir, f, tally))
                    ids.append(relative(f, root) if p.split == "all" else f"{kind_dir.name}/{f.stem}")
                stray_files(kind_dir / "gt", {f.stem for f in scans}, tally)
            if p.split == "all":
                yield whole_subset(cat.name, train + samples, ids=[relative(f, root) for _, f in train_files] + ids,
                                   targets=[np.zeros(len(c), np.int8) for c in train] + targets,
                                   meta={"counts": tally.finish()})
                continue
            yield Subset(name=cat.name, train=Split(samples=train, ids=[c.name for c in train]),
                         test=Split(samples=samples, targets=targets, ids=ids), meta={"counts": tally.finish()})
