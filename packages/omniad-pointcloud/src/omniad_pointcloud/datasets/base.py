"""What the point cloud datasets share: report pictures, and the folder walking of the loaders.

The real layouts differ in names, not in structure (one folder per category holding train
and test clouds), so finding categories and files, and checking a ground-truth file against
its scan, live here once; every failure names the folder or file and what to do.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from omniad.data import Subset
from omniad.dataset import Dataset
from omniad.errors import DataError
from omniad.scores import Scores
from omniad_pointcloud.cloud import PointCloud
from omniad_pointcloud.datasets.params import RootParams
from omniad_pointcloud.io import read_labelled_txt


class CloudDataset(Dataset):
    def render_examples(self, subset: Subset, scores: Scores, out_dir: Path, max_examples: int = 4) -> list[Path]:
        from omniad_pointcloud.datasets.render import render_examples

        return render_examples(subset, scores, Path(out_dir), max_examples=max_examples)


def categories(p: RootParams, where: str) -> list[Path]:
    """The category folders under ``p.root`` (all, or those ``p.categories`` names)."""
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


def files(folder: Path, suffixes: tuple[str, ...], where: str) -> list[Path]:
    """The files of ``folder`` with one of ``suffixes``, sorted; a missing or empty folder is an error."""
    if not folder.is_dir():
        raise DataError(f"{where}: expected folder {folder} is missing")
    found = sorted(f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in suffixes)
    if not found:
        raise DataError(f"{where}: {folder} holds no {'/'.join(suffixes)} files")
    return found


def subfolders(folder: Path, where: str) -> list[Path]:
    if not folder.is_dir():
        raise DataError(f"{where}: expected folder {folder} is missing")
    found = sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not found:
        raise DataError(f"{where}: {folder} holds no defect-type folders (e.g. good/, crack/)")
    return found


def labels_for(cloud: PointCloud, gt: Path, *, from_gt: bool = False) -> tuple[PointCloud, np.ndarray]:
    """The labels of an ``x y z label`` file for ``cloud``.

    By default the file's points must be the scan's (same count, same order, 1e-4 apart), so
    a ground truth that belongs to another scan cannot pass unnoticed. ``from_gt`` takes the
    cloud from the file instead, as the official Real3D-AD loader does.
    """
    points, labels = read_labelled_txt(gt)
    if from_gt:
        try:
            return PointCloud(points=points, name=cloud.name, meta=cloud.meta), labels
        except DataError as exc:
            raise DataError(f"{gt}: {exc}") from None
    if len(points) != len(cloud):
        raise DataError(
            f"{gt}: {len(points)} labelled points but the scan {cloud.name} has {len(cloud)}; the ground truth "
            "belongs to another scan (or set cloud_from_gt=true to take the points from the ground truth)"
        )
    if not np.allclose(points, cloud.points, atol=1e-4):
        raise DataError(f"{gt}: labelled points differ from the scan {cloud.name}'s points (same count, other order?)")
    return cloud, labels
