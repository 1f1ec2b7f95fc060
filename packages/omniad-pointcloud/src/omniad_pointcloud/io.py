"""Reading and writing point cloud files: PLY, PCD, NumPy, text columns, MVTec 3D-AD xyz TIFFs.

PLY and PCD are parsed with numpy (:mod:`io_ply`, :mod:`io_pcd`) rather than through Open3D
or trimesh: the readers are small, need no binary dependency (Open3D needs system libraries
a bare machine lacks), and every malformed file fails with a message naming the file and
what is wrong with it. Only the vertex data is read (faces are sized and checked, not
kept); binary-compressed PCD is refused with the way to convert it. NumPy files are read
through :mod:`omniad.npyfiles` (no pickle, header checked against the data), and an array
that is not plain numbers (complex, bool, text, structured) fails naming the array.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np

from omniad.errors import DataError
from omniad.npyfiles import load_npy, load_npz
from omniad_pointcloud.cloud import PointCloud, numeric_problem
from omniad_pointcloud.io_pcd import read_pcd, write_pcd
from omniad_pointcloud.io_ply import read_ply, read_ply_mesh, write_ply

__all__ = [
    "SUFFIXES",
    "read_cloud",
    "read_labelled_txt",
    "read_labels",
    "read_ply_mesh",
    "read_xyz_tiff",
    "write_pcd",
    "write_ply",
]

SUFFIXES = (".ply", ".pcd", ".npy", ".npz", ".txt", ".xyz", ".tiff", ".tif")


def read_cloud(path: str | Path, *, name: str | None = None) -> PointCloud:
    """The cloud in ``path``, chosen by suffix; labels columns are not read here (see :func:`read_labelled_txt`).

    ``meta["trailing_bytes"]`` counts padding ignored after a binary PLY/PCD body (0: none).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such point cloud file")
    suffix = path.suffix.lower()
    label = name if name is not None else path.stem
    extra = 0
    if suffix == ".ply":
        cols, extra = read_ply(path)
    elif suffix == ".pcd":
        cols, extra = read_pcd(path)
    elif suffix in (".npy", ".npz"):
        cols = {"xyz": _read_numpy(path)}
    elif suffix in (".txt", ".xyz"):
        cols = {"xyz": _read_columns(path)[:, :3]}
    elif suffix in (".tiff", ".tif"):
        return PointCloud.from_grid(read_xyz_tiff(path), name=label)
    else:
        raise DataError(f"{path}: unknown point cloud format {suffix!r}; use one of {', '.join(SUFFIXES)}")
    try:
        return PointCloud(
            points=cols["xyz"],
            colors=cols.get("rgb"),
            normals=cols.get("normals"),
            name=label,
            meta={"trailing_bytes": extra} if extra else {},
        )
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None


def read_xyz_tiff(path: str | Path) -> np.ndarray:
    """An MVTec 3D-AD ``H x W x 3`` float coordinate image (zeros where the scanner saw nothing)."""
    import tifffile

    path = Path(path)
    log = logging.getLogger("tifffile")
    level = log.level
    log.setLevel(
        logging.CRITICAL
    )  # it logs each broken tag before failing: the DataError below is the one line
    try:
        arr = tifffile.imread(path)
    except Exception as exc:  # tifffile raises many types for broken files
        raise DataError(f"{path}: not a readable TIFF ({type(exc).__name__}: {exc})") from None
    finally:
        log.setLevel(level)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise DataError(f"{path}: expected an H x W x 3 coordinate image, got shape {arr.shape}")
    if arr.dtype.kind != "f":
        raise DataError(
            f"{path}: the image holds {arr.dtype} values, not float coordinates (MVTec 3D-AD xyz TIFFs "
            "are float32 x, y, z per pixel; an 8-bit image is a colour picture, not a scan)"
        )
    return np.asarray(arr, dtype=np.float32)


def read_labelled_txt(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``x y z label`` lines (Real3D-AD / Anomaly-ShapeNet ground truth): points and 0/1 labels."""
    path = Path(path)
    arr = _read_columns(path)
    if arr.shape[1] < 4:
        raise DataError(f"{path}: expected 'x y z label' columns, found {arr.shape[1]} columns")
    bad = ~np.all(np.isfinite(arr[:, :3]), axis=1)
    if bad.any():
        raise DataError(
            f"{path}: {int(bad.sum())} of {len(arr)} labelled points have NaN/inf coordinates (first at "
            f"row {int(np.flatnonzero(bad)[0])}); fix or drop those rows"
        )
    labels = arr[:, 3]
    if not np.isin(labels, (0, 1)).all():
        raise DataError(f"{path}: the label column must be 0 or 1, found {np.unique(labels)[:5].tolist()}")
    return arr[:, :3].astype(np.float32), labels.astype(np.int8)


def read_labels(path: str | Path) -> np.ndarray:
    """One 0/1 label per line (``.txt``) or per element (``.npy``, read without pickle), flattened."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        labels = load_npy(path, what="0/1 labels, one per point")
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # an empty file fails below, by name
                labels = np.loadtxt(path, ndmin=1)
        except ValueError as exc:
            raise DataError(f"{path}: not a list of 0/1 labels ({_numpy_reason(exc)})") from None
    labels = np.asarray(labels).reshape(-1)
    problem = numeric_problem(labels.dtype)
    if problem:
        raise DataError(f"{path}: the label array {problem}; give one 0 or 1 per point")
    if not np.isin(labels, (0, 1)).all():
        raise DataError(f"{path}: labels must be 0 or 1, found {np.unique(labels)[:5].tolist()}")
    return labels.astype(np.int8)


def _numpy_reason(exc: Exception) -> str:
    """numpy's message without its advice about its own keyword arguments (no help to a user of files)."""
    return str(exc).split("; use `usecols`")[0]


def _read_columns(path: Path) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # an empty file is reported below, by name
            arr = np.loadtxt(path, dtype=np.float64, ndmin=2, comments="#", delimiter=None)
    except ValueError as exc:
        raise DataError(f"{path}: not whitespace-separated numeric columns ({_numpy_reason(exc)})") from None
    if arr.size == 0:
        raise DataError(f"{path}: the file holds no points")
    if arr.shape[1] < 3:
        raise DataError(f"{path}: expected at least 3 columns (x y z), found {arr.shape[1]}")
    return arr


def _read_numpy(path: Path) -> np.ndarray:
    if path.suffix.lower() == ".npy":
        arr, what = load_npy(path, what="point coordinates"), "the array"
    else:
        arrays = load_npz(path, what="point coordinates")
        keys = list(arrays)
        key = "points" if "points" in keys else (keys[0] if len(keys) == 1 else None)
        if key is None:
            raise DataError(f"{path}: an .npz needs a 'points' array (found {keys})")
        arr, what = arrays[key], f"array {key!r}"
    problem = numeric_problem(arr.dtype)
    if problem:
        raise DataError(f"{path}: {what} {problem}; expected an (N, 3) array of float or integer coordinates")
    if arr.ndim != 2 or arr.shape[1] < 3:
        raise DataError(f"{path}: {what} has shape {arr.shape}; expected (N, 3) coordinates (or (N, 3 + C))")
    return arr
