"""Any folder of clouds: ``<category>/train/good/*``, ``test/<kind>/*``, ``ground_truth/<kind>/<stem>.{txt,npy}``.

The MVTec-style naming for free clouds in any format :func:`omniad_pointcloud.io.read_cloud`
reads. A per-point ground truth holds one 0/1 label per point, in the cloud's order; a
defective cloud without one counts as anomalous throughout (object-level data).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from omniad.data import Split, Subset
from omniad.errors import DataError
from omniad_pointcloud.datasets.base import CloudDataset, categories, files, subfolders
from omniad_pointcloud.datasets.params import FolderParams
from omniad_pointcloud.io import SUFFIXES, read_cloud


class Folder(CloudDataset):
    Params = FolderParams

    def iter_subsets(self) -> Iterator[Subset]:
        where = self.where
        for cat in categories(self.params, where):
            train = [read_cloud(f) for f in files(cat / "train" / "good", SUFFIXES, where)]
            samples, targets, ids = [], [], []
            for kind_dir in subfolders(cat / "test", where):
                for f in files(kind_dir, SUFFIXES, where):
                    cloud = read_cloud(f)
                    samples.append(cloud)
                    targets.append(self._target(cat, kind_dir.name, f, len(cloud)))
                    ids.append(f"{kind_dir.name}/{f.stem}")
            yield Subset(name=cat.name, train=Split(samples=train, ids=[c.name for c in train]),
                         test=Split(samples=samples, targets=targets, ids=ids))

    def _target(self, cat: Path, kind: str, f: Path, n: int) -> np.ndarray:
        if kind == self.params.normal_folder:
            return np.zeros(n, np.int8)
        for suffix in (".txt", ".npy"):
            gt = cat / "ground_truth" / kind / f"{f.stem}{suffix}"
            if not gt.is_file():
                continue
            try:
                labels = np.load(gt, allow_pickle=False) if suffix == ".npy" else np.loadtxt(gt, ndmin=1)
            except (ValueError, OSError) as exc:
                raise DataError(f"{gt}: not a list of 0/1 labels ({exc})") from None
            labels = np.asarray(labels).reshape(-1)
            if len(labels) != n:
                raise DataError(f"{gt}: {len(labels)} labels but {f} has {n} points; one label per point, in order")
            if not np.isin(labels, (0, 1)).all():
                raise DataError(f"{gt}: labels must be 0 or 1, found {np.unique(labels)[:5].tolist()}")
            return labels.astype(np.int8)
        return np.ones(n, np.int8)
