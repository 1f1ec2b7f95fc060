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
    """One shape's clouds: train (normal), test with per-point labels and the defect kind ('good' = none)."""

    shape: str
    train: list[PointCloud]
    test: list[PointCloud]
    targets: list[np.ndarray]
    kinds: list[str]


def make_shape_set(shape: str, p: SyntheticParams, shape_index: int) -> ShapeSet:
    rng = np.random.default_rng([p.seed, shape_index])

    def normal(name: str) -> tuple[np.ndarray, np.ndarray]:
        return sample_shape(shape, p.n_points, rng, noise=p.noise, rotate=p.rotate)

    train = [PointCloud(points=normal("")[0], name=f"{shape}/train/{i:03d}") for i in range(p.n_train)]
    test, targets, kinds = [], [], []
    for i in range(p.n_test_normal):
        test.append(PointCloud(points=normal("")[0], name=f"{shape}/good/{i:03d}"))
        targets.append(np.zeros(p.n_points, dtype=np.int8))
        kinds.append("good")
    for kind in p.defects:
        for i in range(p.n_test_per_defect):
            pts, nrm = normal("")
            d = apply_defect(pts, nrm, kind, rng, size=p.defect_size, depth=p.defect_depth)
            test.append(PointCloud(points=d.points, normals=d.normals, name=f"{shape}/{kind}/{i:03d}"))
            targets.append(d.labels)
            kinds.append(kind)
    return ShapeSet(shape, train, test, targets, kinds)


class Synthetic(CloudDataset):
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
