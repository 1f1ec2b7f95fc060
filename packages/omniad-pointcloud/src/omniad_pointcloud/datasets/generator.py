"""Write the synthetic benchmark in the folder layouts of the real 3D anomaly datasets.

The loaders cannot be tested on MVTec 3D-AD, Real3D-AD or Anomaly-ShapeNet here (no
downloads), so the generator writes the same clouds and labels in each layout and the tests
check that every loader reads back exactly what was written. Layouts:

* ``mvtec3d``: ``<shape>/{train,validation}/good/{xyz,rgb}/NNN.{tiff,png}`` and
  ``<shape>/test/<defect|good>/{xyz,rgb,gt}/NNN.{tiff,png,png}``; each cloud is rendered as
  an organised ``H x W x 3`` xyz image seen from +z (the nearest point per pixel, zeros where
  no surface is seen), the gt mask marks pixels whose point is anomalous (0 / 255).
* ``real3d``: ``<shape>/train/NNN_template.pcd``, ``<shape>/test/NNN_<defect|good>.pcd`` and
  ``<shape>/gt/NNN_<defect|good>.txt`` with ``x y z label`` lines.
* ``shapenet`` (Anomaly-ShapeNet): ``<shape>/train/<shape>_template<i>.pcd``,
  ``<shape>/test/<shape>_<defect><i>.pcd`` (``positive`` for normal clouds) and
  ``<shape>/GT/<shape>_<defect><i>.txt`` with ``x y z label`` lines for the defective ones.
* ``folder``: ``<shape>/train/good/NNN.ply``, ``<shape>/test/<defect|good>/NNN.ply`` and
  ``<shape>/ground_truth/<defect>/NNN.txt`` with one 0/1 label per point.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np

from omniad.errors import ConfigError
from omniad_pointcloud.cloud import PointCloud
from omniad_pointcloud.datasets.params import SyntheticParams
from omniad_pointcloud.datasets.synthetic import make_shape_set
from omniad_pointcloud.io import write_pcd, write_ply

Layout = Literal["mvtec3d", "real3d", "shapenet", "folder"]
LAYOUTS = ("mvtec3d", "real3d", "shapenet", "folder")


def render_grid(points: np.ndarray, labels: np.ndarray, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """An organised ``size x size x 3`` scan of ``points`` seen from +z, and its 0/1 mask."""
    lo, hi = points[:, :2].min(0), points[:, :2].max(0)
    cell = ((points[:, :2] - lo) / np.maximum(hi - lo, 1e-9) * (size - 1)).round().astype(int)
    flat = cell[:, 1] * size + cell[:, 0]
    order = np.lexsort((-points[:, 2], flat))  # per pixel, the highest z (nearest the viewer) first
    first = np.r_[True, flat[order][1:] != flat[order][:-1]]
    chosen = order[first]
    xyz = np.zeros((size * size, 3), dtype=np.float32)
    mask = np.zeros(size * size, dtype=np.uint8)
    # a point exactly at the origin would read as "nothing seen"; shift the object off it
    xyz[flat[chosen]] = points[chosen] + np.array([0, 0, 10.0], dtype=np.float32)
    mask[flat[chosen]] = labels[chosen]
    return xyz.reshape(size, size, 3), mask.reshape(size, size)


def _save_png(path: Path, array: np.ndarray) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _write_mvtec(root: Path, split: str, kind: str, i: int, cloud: PointCloud, labels: np.ndarray, size: int) -> None:
    import tifffile

    xyz, mask = render_grid(cloud.points, labels, size)
    base = root / split / kind
    (base / "xyz").mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(base / "xyz" / f"{i:03d}.tiff", xyz)
    shade = np.clip((xyz[..., 2] - 9.0) * 127, 0, 255).astype(np.uint8)
    _save_png(base / "rgb" / f"{i:03d}.png", np.repeat(shade[..., None], 3, axis=2))
    if split == "test":
        _save_png(base / "gt" / f"{i:03d}.png", mask * 255)


def _labelled_txt(path: Path, cloud: PointCloud, labels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, np.c_[cloud.points, labels], fmt=["%.7g", "%.7g", "%.7g", "%d"])


def write_benchmark(
    root: str | Path, layout: Layout, params: SyntheticParams | dict[str, Any] | None = None, *, grid_size: int = 64,
) -> Path:
    """Write the synthetic benchmark (``pointcloud.synthetic`` with ``params``) under ``root`` in ``layout``."""
    if layout not in LAYOUTS:
        raise ConfigError(f"unknown layout {layout!r}; choose from {LAYOUTS}")
    p = params if isinstance(params, SyntheticParams) else SyntheticParams(**(params or {}))
    root = Path(root)
    for si, shape in enumerate(p.shapes):
        s = make_shape_set(shape, p, si)
        base = root / shape
        counters: dict[str, int] = {}
        for i, cloud in enumerate(s.train):
            zero = np.zeros(len(cloud), np.int8)
            if layout == "mvtec3d":
                _write_mvtec(base, "train", "good", i, cloud, zero, grid_size)
                if i == 0:
                    _write_mvtec(base, "validation", "good", i, cloud, zero, grid_size)
            elif layout == "real3d":
                write_pcd(base / "train" / f"{i:03d}_template.pcd", cloud)
            elif layout == "shapenet":
                write_pcd(base / "train" / f"{shape}_template{i}.pcd", cloud, binary=False)
            else:
                write_ply(base / "train" / "good" / f"{i:03d}.ply", cloud)
        for t, (cloud, labels, kind) in enumerate(zip(s.test, s.targets, s.kinds, strict=True)):
            j = counters[kind] = counters.get(kind, -1) + 1
            if layout == "mvtec3d":
                _write_mvtec(base, "test", kind, j, cloud, labels, grid_size)
            elif layout == "real3d":
                name = f"{t:03d}_{kind}"
                write_pcd(base / "test" / f"{name}.pcd", cloud)
                _labelled_txt(base / "gt" / f"{name}.txt", cloud, labels)
            elif layout == "shapenet":
                name = f"{shape}_{'positive' if kind == 'good' else kind}{j}"
                write_pcd(base / "test" / f"{name}.pcd", cloud)
                if kind != "good":
                    _labelled_txt(base / "GT" / f"{name}.txt", cloud, labels)
            else:
                write_ply(base / "test" / kind / f"{j:03d}.ply", cloud, binary=False)
                if kind != "good":
                    gt = base / "ground_truth" / kind / f"{j:03d}.txt"
                    gt.parent.mkdir(parents=True, exist_ok=True)
                    np.savetxt(gt, labels, fmt="%d")
    return root
