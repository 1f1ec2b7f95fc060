"""Reading and writing point cloud files: PLY, PCD, NumPy, text columns, MVTec 3D-AD xyz TIFFs.

PLY and PCD are parsed with numpy (:mod:`io_ply`, :mod:`io_pcd`) rather than through Open3D
or trimesh: the readers are small, need no binary dependency (Open3D needs system libraries
a bare machine lacks), and every malformed file fails with a message naming the file and
what is wrong with it. Only the vertex data is read (faces are sized and checked, not
kept); binary-compressed PCD is refused with the way to convert it. NumPy files are read
without pickle, and an array that is not plain numbers (object, complex, bool, text,
structured) fails naming the array, before numpy's own error could.
"""

from __future__ import annotations

import logging
import tokenize
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

from omniad.errors import DataError
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

#: what numpy and zipfile raise on a damaged file: a garbled header is tokenised (TokenError,
#: SyntaxError), a damaged deflate stream fails in zlib, an unknown zip method or version is
#: NotImplementedError and an encrypted member RuntimeError; each becomes a DataError naming the file
_BROKEN_NUMPY = (
    ValueError,
    OSError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
    tokenize.TokenError,
    SyntaxError,
    NotImplementedError,
    RuntimeError,
    MemoryError,
)


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
        labels = _load_npy(path, save="np.asarray(labels, dtype=np.int8), one 0/1 label per point")
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


def _reason(exc: Exception) -> str:
    """The library's message with its type: 'Error -3 while decompressing' alone does not say it is zlib's."""
    kind = (
        type(exc).__name__
        if type(exc).__module__ == "builtins"
        else f"{type(exc).__module__}.{type(exc).__name__}"
    )
    return f"{kind}: {_numpy_reason(exc)}"


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


def _load_npy(
    path: Path,
    fh: object = None,
    what: str = "",
    size: int | None = None,
    save: str = "np.asarray(points, dtype=np.float32)",
) -> np.ndarray:
    """One ``.npy`` array (from ``fh`` when given, an open .npz member of ``size`` bytes), its header checked first.

    Data beyond the header's shape is refused: numpy reads the declared count and ignores what
    follows, so an edited shape would silently load part of the file.
    """
    fmt = np.lib.format
    where = f"{path}: {what}" if what else f"{path}:"
    try:
        with open(path, "rb") if fh is None else fh as f:  # type: ignore[attr-defined]
            version = fmt.read_magic(f)
            shape, _, dtype = (fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0)(
                f
            )
            if dtype.hasobject:
                raise DataError(
                    f"{where} {'is an object array' if what else 'holds an object array'} (shape {shape}: "
                    "Python objects, e.g. a list of arrays of different lengths, need pickle to load); "
                    f"omniad reads numeric arrays only: save {save}"
                )
            held = (path.stat().st_size if size is None else size) - f.tell()
            declared = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if held > declared:  # fewer bytes fail in numpy's read below, with both counts
                raise DataError(
                    f"{path}: {what + ': ' if what else ''}the header declares shape {shape} of {dtype} ({declared} "
                    f"bytes) but {held} bytes follow it: a wrong shape would load part of the data; save the whole "
                    f"array again with {'np.savez' if what else 'np.save'}"
                )
            f.seek(0)
            return np.load(f, allow_pickle=False)
    except DataError:
        raise
    except _BROKEN_NUMPY as exc:
        where = f"{path}: {what} is not readable" if what else f"{path}: not a NumPy array file"
        raise DataError(
            f"{where} ({_reason(exc)}); save it again with {'np.savez' if what else 'np.save'}"
        ) from None


def _read_numpy(path: Path) -> np.ndarray:
    if path.suffix.lower() == ".npy":
        arr, what = _load_npy(path), "the array"
    else:
        try:
            with zipfile.ZipFile(path) as zf:
                keys = [n[:-4] for n in zf.namelist() if n.endswith(".npy")]
                key = "points" if "points" in keys else (keys[0] if len(keys) == 1 else None)
                if key is None:
                    raise DataError(f"{path}: an .npz needs a 'points' array (found {keys})")
                what = f"array {key!r}"
                member = zf.getinfo(f"{key}.npy")
                arr = _load_npy(path, zf.open(member), what, size=member.file_size)
        except DataError:
            raise
        except _BROKEN_NUMPY as exc:
            raise DataError(
                f"{path}: not a NumPy array file (.npz: {_reason(exc)}); save it again with np.savez"
            ) from None
    problem = numeric_problem(arr.dtype)
    if problem:
        raise DataError(f"{path}: {what} {problem}; expected an (N, 3) array of float or integer coordinates")
    if arr.ndim != 2 or arr.shape[1] < 3:
        raise DataError(f"{path}: {what} has shape {arr.shape}; expected (N, 3) coordinates (or (N, 3 + C))")
    return arr
