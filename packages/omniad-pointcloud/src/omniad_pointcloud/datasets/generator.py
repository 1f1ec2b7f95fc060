"""Write the synthetic benchmark in the folder layouts of the real 3D anomaly datasets.

The loaders cannot be tested on MVTec 3D-AD, Real3D-AD or Anomaly-ShapeNet here (no
downloads), so the generator writes the same clouds and labels in each layout and the tests
check that every loader reads back exactly what was written. Layouts:

* ``mvtec3d``: ``<shape>/{train,validation}/good/{xyz,rgb}/NNN.{tiff,png}`` and
  ``<shape>/test/<defect|good>/{xyz,rgb,gt}/NNN.{tiff,png,png}``; each cloud is rendered as
  an organised ``H x W x 3`` xyz image seen from +z by ray-casting the sampled surface as
  surfels into a z-buffer (:func:`render_grid`; zeros where no surface is seen, optionally a
  floor plane), the gt mask marks pixels whose surfel is anomalous (0 / 255).
* ``real3d``: ``<shape>/train/NNN_template.pcd``, ``<shape>/test/NNN_<defect|good>.pcd`` and
  ``<shape>/gt/NNN_<defect|good>.txt`` with ``x y z label`` lines.
* ``shapenet`` (Anomaly-ShapeNet): ``<shape>/train/<shape>_template<i>.pcd``,
  ``<shape>/test/<shape>_<defect><i>.pcd`` (``positive`` for normal clouds) and
  ``<shape>/GT/<shape>_<defect><i>.txt`` with ``x y z label`` lines for the defective ones.
* ``folder``: ``<shape>/train/good/NNN.ply`` (binary), ``<shape>/test/<defect|good>/NNN.{ply,pcd,npy}``
  (ascii PLY, binary PCD and NumPy in turn, so one folder mixes formats) and
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


def render_grid(
    points: np.ndarray, labels: np.ndarray, size: int = 64, *, normals: np.ndarray | None = None,
    background: bool = False, splat: float = 2.0,
) -> tuple[np.ndarray, np.ndarray]:
    """An organised ``size x size x 3`` scan of ``points`` seen from +z, and its 0/1 mask.

    An orthographic ray through each pixel centre meets the sampled surface as a set of
    surfels (discs of radius ``splat`` x the mean point spacing, on the tangent plane given
    by ``normals``); the nearest one (highest z) wins, as a z-buffer, so hidden points never
    show and the sparse sampling leaves no pin-holes. With ``normals=None`` the discs face
    the viewer. Surfels seen nearly edge-on are skipped, as a scanner misses grazing
    surfaces. ``background`` adds a tilted floor plane under the object (label 0), the plane
    ``pointcloud.mvtec3d``'s ``remove_plane`` takes away. Depth is shifted by +10 so no
    point of the object reads as the zeros that mean "nothing seen".
    """
    from scipy.spatial import cKDTree

    pts = np.asarray(points, dtype=np.float64)
    lab = np.asarray(labels)
    nrm = np.tile([0.0, 0.0, 1.0], (len(pts), 1)) if normals is None else np.asarray(normals, dtype=np.float64)
    lo, hi = pts[:, :2].min(0), pts[:, :2].max(0)
    span = float((hi - lo).max()) * 1.08
    origin = (lo + hi) / 2 - span / 2
    pixel = span / size
    spacing = float(np.median(cKDTree(pts).query(pts, k=2)[0][:, 1]))
    radius = splat * max(spacing, 1e-9)
    reach = int(np.ceil(radius / pixel))
    offs = np.stack(np.meshgrid(np.arange(-reach, reach + 1), np.arange(-reach, reach + 1)), -1).reshape(-1, 2)
    base = np.floor((pts[:, :2] - origin) / pixel).astype(int)
    cells = base[:, None, :] + offs[None]  # (N, K, 2) candidate pixels (col, row)
    centres = origin + (cells + 0.5) * pixel
    d = centres - pts[:, None, :2]
    nz = np.where(np.abs(nrm[:, 2]) < 1e-6, 1e-6, nrm[:, 2])[:, None]
    z = pts[:, None, 2] - (nrm[:, None, 0] * d[..., 0] + nrm[:, None, 1] * d[..., 1]) / nz
    on_disc = (d**2).sum(-1) + (z - pts[:, None, 2]) ** 2 <= radius**2
    ok = on_disc & (np.abs(nrm[:, 2]) >= 0.2)[:, None] & (cells >= 0).all(-1) & (cells < size).all(-1)
    who = np.broadcast_to(np.arange(len(pts))[:, None], ok.shape)[ok]
    flat, depth = (cells[..., 1] * size + cells[..., 0])[ok], z[ok]
    order = np.lexsort((-depth, flat))  # per pixel, the highest z (nearest the viewer) first
    first = np.r_[True, flat[order][1:] != flat[order][:-1]]
    win = order[first]
    xyz = np.zeros((size * size, 3), dtype=np.float32)
    mask = np.zeros(size * size, dtype=np.uint8)
    px = origin + (np.c_[flat[win] % size, flat[win] // size] + 0.5) * pixel
    xyz[flat[win]] = np.c_[px, depth[win] + 10.0]
    mask[flat[win]] = lab[who[win]]
    if background:
        empty = ~np.any(xyz != 0, axis=1)
        rc = np.flatnonzero(empty)
        fx, fy = (origin + (np.c_[rc % size, rc // size] + 0.5) * pixel).T
        # tilted, and at least 0.09 x span below the object everywhere
        floor = pts[:, 2].min() - 0.15 * span + 0.04 * (fx - origin[0]) + 0.02 * (fy - origin[1])
        xyz[rc] = np.c_[fx, fy, floor + 10.0]
    return xyz.reshape(size, size, 3), mask.reshape(size, size)


def _save_png(path: Path, array: np.ndarray) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _write_mvtec(
    root: Path, split: str, kind: str, i: int, cloud: PointCloud, labels: np.ndarray, normals: np.ndarray,
    size: int, background: bool,
) -> None:
    import tifffile

    xyz, mask = render_grid(cloud.points, labels, size, normals=normals, background=background)
    base = root / split / kind
    (base / "xyz").mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(base / "xyz" / f"{i:03d}.tiff", xyz, photometric="rgb")  # H x W x 3, as MVTec 3D-AD
    seen = np.any(xyz != 0, axis=2)
    z = xyz[..., 2]
    span = max(float(np.ptp(z[seen])), 1e-9) if seen.any() else 1.0
    shade = np.where(seen, 40 + 215 * (z - (z[seen].min() if seen.any() else 0)) / span, 0).astype(np.uint8)
    _save_png(base / "rgb" / f"{i:03d}.png", np.repeat(shade[..., None], 3, axis=2))
    if split == "test":
        _save_png(base / "gt" / f"{i:03d}.png", mask * 255)


def _labelled_txt(path: Path, cloud: PointCloud, labels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, np.c_[cloud.points, labels], fmt=["%.7g", "%.7g", "%.7g", "%d"])


def write_benchmark(
    root: str | Path, layout: Layout, params: SyntheticParams | dict[str, Any] | None = None, *, grid_size: int = 64,
    background: bool = False,
) -> Path:
    """Write the synthetic benchmark (``pointcloud.synthetic`` with ``params``) under ``root`` in ``layout``.

    ``grid_size`` and ``background`` (a floor plane under each object) concern the
    ``mvtec3d`` layout only. Returns ``root``; the same params give the same files.
    """
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
                _write_mvtec(base, "train", "good", i, cloud, zero, s.train_normals[i], grid_size, background)
                if i == 0:
                    _write_mvtec(base, "validation", "good", i, cloud, zero, s.train_normals[i], grid_size, background)
            elif layout == "real3d":
                write_pcd(base / "train" / f"{i:03d}_template.pcd", cloud)
            elif layout == "shapenet":
                write_pcd(base / "train" / f"{shape}_template{i}.pcd", cloud, binary=False)
            else:
                write_ply(base / "train" / "good" / f"{i:03d}.ply", cloud)
        for t, (cloud, labels, kind) in enumerate(zip(s.test, s.targets, s.kinds, strict=True)):
            j = counters[kind] = counters.get(kind, -1) + 1
            if layout == "mvtec3d":
                _write_mvtec(base, "test", kind, j, cloud, labels, s.test_normals[t], grid_size, background)
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
                out = base / "test" / kind / f"{j:03d}"
                if j % 3 == 0:
                    write_ply(out.with_suffix(".ply"), cloud, binary=False)
                elif j % 3 == 1:
                    write_pcd(out.with_suffix(".pcd"), cloud)
                else:
                    out.parent.mkdir(parents=True, exist_ok=True)
                    np.save(out.with_suffix(".npy"), cloud.points)
                if kind != "good":
                    gt = base / "ground_truth" / kind / f"{j:03d}.txt"
                    gt.parent.mkdir(parents=True, exist_ok=True)
                    np.savetxt(gt, labels, fmt="%d")
    return root
