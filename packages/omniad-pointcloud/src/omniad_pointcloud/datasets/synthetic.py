"""Seeded synthetic benchmark: parametric shapes, surface noise, defects with per-point labels.

No real 3D anomaly data can be downloaded on the project's machines, so the loaders are
tested on files this generator writes, and the benchmark numbers are measured on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from omniad.data import Split, Subset
from omniad_pointcloud.cloud import PointCloud
from omniad_pointcloud.datasets.base import CloudDataset
from omniad_pointcloud.datasets.params import SyntheticParams
from omniad_pointcloud.defects import apply_defect
from omniad_pointcloud.shapes import sample_shape


@dataclass
class ShapeSet:
    """One shape's clouds: train (normal), test with per-point labels and the defect kind ('good' = none).

    The clouds carry no normals (real scans have none, and a displaced surface's sampled
    normals are stale); ``test_normals`` keeps them for the renderer of the MVTec 3D-AD layout.
    """

    shape: str
    train: list[PointCloud]
    test: list[PointCloud]
    targets: list[np.ndarray]
    kinds: list[str]
    train_normals: list[np.ndarray]
    test_normals: list[np.ndarray]


def make_shape_set(shape: str, p: SyntheticParams, shape_index: int) -> ShapeSet:
    """The clouds of subset ``shape``: seeded by ``(p.seed, shape_index)``, so subsets are independent."""
    rng = np.random.default_rng([p.seed, shape_index])
    s = ShapeSet(shape, [], [], [], [], [], [])
    for i in range(p.n_train):
        pts, nrm = sample_shape(shape, p.n_points, rng, noise=p.noise, rotate=p.rotate)
        s.train.append(PointCloud(points=pts, name=f"{shape}/train/{i:03d}"))
        s.train_normals.append(nrm)
    for i in range(p.n_test_normal):
        pts, nrm = sample_shape(shape, p.n_points, rng, noise=p.noise, rotate=p.rotate)
        s.test.append(PointCloud(points=pts, name=f"{shape}/good/{i:03d}"))
        s.targets.append(np.zeros(p.n_points, dtype=np.int8))
        s.kinds.append("good")
        s.test_normals.append(nrm)
    for kind in p.defects:
        for i in range(p.n_test_per_defect):
            pts, nrm = sample_shape(shape, p.n_points, rng, noise=p.noise, rotate=p.rotate)
            d = apply_defect(pts, nrm, kind, rng, size=p.defect_size, depth=p.defect_depth)
            s.test.append(PointCloud(points=d.points, name=f"{shape}/{kind}/{i:03d}"))
            s.targets.append(np.asarray(d.labels, dtype=np.int8))
            s.kinds.append(kind)
            s.test_normals.append(np.asarray(d.normals, dtype=np.float32))
    return s


class Synthetic(CloudDataset):
    """``pointcloud.synthetic``: one subset per shape, in memory (the same clouds the generator writes)."""

    Params = SyntheticParams

    def iter_subsets(self) -> Iterator[Subset]:
        for i, shape in enumerate(self.params.shapes):
            s = make_shape_set(shape, self.params, i)
            yield Subset(
                name=shape,
                train=Split(samples=s.train, ids=[c.name for c in s.train]),
                test=Split(samples=s.test, targets=s.targets, ids=[c.name for c in s.test], meta={"kinds": s.kinds}),
                meta={"shape": shape, "defects": list(self.params.defects)},
            )
