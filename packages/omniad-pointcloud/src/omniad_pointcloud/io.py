"""Reading and writing point cloud files: PLY, PCD, NumPy, text columns, MVTec 3D-AD xyz TIFFs.

PLY and PCD are parsed with numpy here rather than through Open3D or trimesh: the readers
are small, need no binary dependency (Open3D needs system libraries a bare machine lacks),
and every malformed file fails with a message naming the file and what is wrong with it.
Only the vertex data is read (faces are skipped); binary-compressed PCD is refused with the
way to convert it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from omniad.errors import DataError
from omniad_pointcloud.cloud import PointCloud

SUFFIXES = (".ply", ".pcd", ".npy", ".npz", ".txt", ".xyz", ".tiff", ".tif")

_PLY_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1", "short": "i2", "int16": "i2",
    "ushort": "u2", "uint16": "u2", "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}


def read_cloud(path: str | Path, *, name: str | None = None) -> PointCloud:
    """The cloud in ``path``, chosen by suffix; labels columns are not read here (see :func:`read_labelled_txt`)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such point cloud file")
    suffix = path.suffix.lower()
    label = name if name is not None else path.stem
    if suffix == ".ply":
        cols = _read_ply(path)
    elif suffix == ".pcd":
        cols = _read_pcd(path)
    elif suffix in (".npy", ".npz"):
        cols = {"xyz": _read_numpy(path)}
    elif suffix in (".txt", ".xyz"):
        cols = {"xyz": _read_columns(path)[:, :3]}
    elif suffix in (".tiff", ".tif"):
        return PointCloud.from_grid(read_xyz_tiff(path), name=label)
    else:
        raise DataError(f"{path}: unknown point cloud format {suffix!r}; use one of {', '.join(SUFFIXES)}")
    try:
        return PointCloud(points=cols["xyz"], colors=cols.get("rgb"), normals=cols.get("normals"), name=label)
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None


def read_xyz_tiff(path: str | Path) -> np.ndarray:
    """An MVTec 3D-AD ``H x W x 3`` float coordinate image (zeros where the scanner saw nothing)."""
    import tifffile

    path = Path(path)
    try:
        arr = tifffile.imread(path)
    except Exception as exc:  # tifffile raises many types for broken files
        raise DataError(f"{path}: not a readable TIFF ({type(exc).__name__}: {exc})") from None
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise DataError(f"{path}: expected an H x W x 3 coordinate image, got shape {arr.shape}")
    return np.asarray(arr, dtype=np.float32)


def read_labelled_txt(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``x y z label`` lines (Real3D-AD / Anomaly-ShapeNet ground truth): points and 0/1 labels."""
    path = Path(path)
    arr = _read_columns(path)
    if arr.shape[1] < 4:
        raise DataError(f"{path}: expected 'x y z label' columns, found {arr.shape[1]} columns")
    labels = arr[:, 3]
    if not np.isin(labels, (0, 1)).all():
        raise DataError(f"{path}: the label column must be 0 or 1, found {np.unique(labels)[:5].tolist()}")
    return arr[:, :3].astype(np.float32), labels.astype(np.int8)


def _read_columns(path: Path) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # an empty file is reported below, by name
            arr = np.loadtxt(path, dtype=np.float64, ndmin=2, comments="#", delimiter=None)
    except ValueError as exc:
        raise DataError(f"{path}: not whitespace-separated numeric columns ({exc})") from None
    if arr.size == 0:
        raise DataError(f"{path}: the file holds no points")
    if arr.shape[1] < 3:
        raise DataError(f"{path}: expected at least 3 columns (x y z), found {arr.shape[1]}")
    return arr


def _read_numpy(path: Path) -> np.ndarray:
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise DataError(f"{path}: not a NumPy array file ({exc})") from None
    if isinstance(data, np.lib.npyio.NpzFile):
        keys = list(data.keys())
        key = "points" if "points" in keys else (keys[0] if len(keys) == 1 else None)
        if key is None:
            raise DataError(f"{path}: an .npz needs a 'points' array (found {keys})")
        data = data[key]
    return np.asarray(data)


# -- PLY ------------------------------------------------------------------------------------
_Prop = tuple  # (name, dtype) or (name, "list", count dtype, item dtype)


def _ply_header(path: Path) -> tuple[str, list[tuple[str, int, list[_Prop]]], bytes]:
    with open(path, "rb") as fh:
        if fh.readline().strip() != b"ply":
            raise DataError(f"{path}: not a PLY file (the first line must be 'ply')")
        fmt, elements = None, []
        while True:
            line = fh.readline()
            if not line:
                raise DataError(f"{path}: PLY header has no 'end_header'")
            words = line.decode("ascii", "replace").split()
            if not words or words[0] in ("comment", "obj_info"):
                continue
            if words[0] == "end_header":
                break
            try:
                if words[0] == "format":
                    fmt = words[1]
                elif words[0] == "element":
                    elements.append((words[1], int(words[2]), []))
                elif words[0] == "property" and elements:
                    types = words[2:4] if words[1] == "list" else words[1:2]
                    unknown = [t for t in types if t not in _PLY_TYPES]
                    if unknown:
                        raise DataError(f"{path}: unknown PLY property type {unknown[0]!r}")
                    if words[1] == "list":
                        elements[-1][2].append((words[4], "list", _PLY_TYPES[words[2]], _PLY_TYPES[words[3]]))
                    else:
                        elements[-1][2].append((words[2], _PLY_TYPES[words[1]]))
            except (IndexError, ValueError):
                raise DataError(f"{path}: malformed PLY header line {line.strip()!r}") from None
        body = fh.read()
    if fmt not in ("ascii", "binary_little_endian", "binary_big_endian"):
        raise DataError(f"{path}: unsupported PLY format {fmt!r}")
    return fmt, elements, body


def _ply_body(path: Path, want: tuple[str, ...], header: tuple | None = None) -> dict[str, dict[str, np.ndarray]]:
    """The elements named in ``want``, property by property; lists must have one length per element
    (triangles), read as ``(count, k)`` arrays."""
    fmt, elements, body = header or _ply_header(path)
    out: dict[str, dict[str, np.ndarray]] = {}
    if fmt == "ascii":
        lines = [ln for ln in body.decode("ascii", "replace").split("\n") if ln.strip()]
        at = 0
        for name, n, props in elements:
            rows = [ln.split() for ln in lines[at : at + n]]
            at += n
            if name not in want:
                continue
            if len(rows) < n:
                raise DataError(f"{path}: truncated PLY body: it declares {n} {name} lines but holds {len(rows)}")
            out[name] = _ply_ascii_element(path, name, n, props, rows)
        return out
    order = "<" if fmt == "binary_little_endian" else ">"
    at = 0
    for name, n, props in elements:
        dtype = _ply_binary_dtype(path, name, props, body, at, order)
        if len(body) < at + n * dtype.itemsize:
            raise DataError(f"{path}: truncated PLY body ({len(body) - at} bytes left for {n} {name} records of "
                            f"{dtype.itemsize})")
        rec = np.frombuffer(body, dtype=dtype, count=n, offset=at)
        at += n * dtype.itemsize
        if name not in want:
            continue
        cols = {}
        for prop in props:
            if len(prop) == 4 and n and not np.all(rec[prop[0] + "#n"] == rec.dtype[prop[0]].shape[0]):
                raise DataError(f"{path}: {name} lists of mixed length are not supported; triangulate the mesh")
            cols[prop[0]] = rec[prop[0]].astype(np.float64 if len(prop) == 2 else np.int64)
        out[name] = cols
    return out


def _ply_ascii_element(path: Path, name: str, n: int, props: list[_Prop], rows: list[list[str]]) -> dict[str, np.ndarray]:
    if all(len(p) == 2 for p in props):
        short = next((i for i, r in enumerate(rows) if len(r) < len(props)), None)
        if short is not None:
            raise DataError(f"{path}: PLY {name} line {short} has {len(rows[short])} values, the header names {len(props)}")
        try:
            table = np.array([r[: len(props)] for r in rows], dtype=np.float64).reshape(n, len(props))
        except ValueError:
            raise DataError(f"{path}: PLY {name} lines are not numeric") from None
        return {p[0]: table[:, i] for i, p in enumerate(props)}
    if len(props) != 1:
        raise DataError(f"{path}: PLY {name} mixes list and scalar properties; only plain face lists are read")
    try:
        lengths = [int(r[0]) for r in rows]
        k = lengths[0] if rows else 3
        uniform = all(m == k and len(r) >= k + 1 for m, r in zip(lengths, rows, strict=True))
        table = np.array([r[1 : k + 1] for r in rows], dtype=np.int64).reshape(n, k) if uniform else None
    except ValueError:
        raise DataError(f"{path}: PLY {name} lines are not integer lists") from None
    if table is None:
        raise DataError(f"{path}: {name} lists of mixed length are not supported; triangulate the mesh")
    return {props[0][0]: table}


def _ply_binary_dtype(path: Path, name: str, props: list[_Prop], body: bytes, at: int, order: str) -> np.dtype:
    fields: list[tuple] = []
    pos = at
    for prop in props:
        if len(prop) == 2:
            fields.append((prop[0], order + prop[1]))
            pos += np.dtype(prop[1]).itemsize
            continue
        ct, it = np.dtype(order + prop[2]), np.dtype(order + prop[3])
        if len(body) < pos + ct.itemsize:
            raise DataError(f"{path}: truncated PLY body in element {name}")
        k = int(np.frombuffer(body, dtype=ct, count=1, offset=pos)[0])  # the first record's length
        fields += [(prop[0] + "#n", ct), (prop[0], it, (k,))]
        pos += ct.itemsize + k * it.itemsize
    return np.dtype(fields)


def _read_ply(path: Path) -> dict[str, np.ndarray]:
    header = _ply_header(path)
    vertex = next((e for e in header[1] if e[0] == "vertex"), None)
    if vertex is None:
        raise DataError(f"{path}: PLY has no vertex element")
    if any(len(p) != 2 for p in vertex[2]):
        raise DataError(f"{path}: list properties on vertices are not supported")
    names = [p[0] for p in vertex[2]]
    if not {"x", "y", "z"} <= set(names):
        raise DataError(f"{path}: PLY vertices need x, y and z properties (found {names})")
    return _columns(_ply_body(path, ("vertex",), header)["vertex"])


def read_ply_mesh(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """A triangle mesh's vertices ``(V, 3)`` and faces ``(F, 3)`` from a PLY file (for :mod:`shapes`)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such mesh file")
    vertices = _read_ply(path)["xyz"]
    if len(vertices) == 0 or not np.all(np.isfinite(vertices)):
        raise DataError(f"{path}: the mesh has no vertices or NaN/inf coordinates")
    faces = _ply_body(path, ("face",)).get("face")
    if not faces:
        raise DataError(f"{path}: PLY has no face element; a mesh is needed to sample a surface")
    tri = next(iter(faces.values()))
    if tri.ndim != 2 or tri.shape[1] != 3:
        raise DataError(f"{path}: faces must be triangles, found {tri.shape[1] if tri.ndim == 2 else '?'}-gons")
    if tri.size and (tri.min() < 0 or tri.max() >= len(vertices)):
        raise DataError(f"{path}: face indices outside the {len(vertices)} vertices")
    return vertices.astype(np.float32), tri


def _columns(cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {"xyz": np.stack([cols["x"], cols["y"], cols["z"]], axis=1)}
    if {"nx", "ny", "nz"} <= set(cols):
        out["normals"] = np.stack([cols["nx"], cols["ny"], cols["nz"]], axis=1)
    if {"red", "green", "blue"} <= set(cols):
        out["rgb"] = np.stack([cols["red"], cols["green"], cols["blue"]], axis=1).astype(np.uint8)
    return out


def write_ply(path: str | Path, cloud: PointCloud, *, binary: bool = True) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = [("x", "f4"), ("y", "f4"), ("z", "f4")]
    data = [cloud.points[:, 0], cloud.points[:, 1], cloud.points[:, 2]]
    if cloud.normals is not None:
        fields += [("nx", "f4"), ("ny", "f4"), ("nz", "f4")]
        data += [cloud.normals[:, 0], cloud.normals[:, 1], cloud.normals[:, 2]]
    if cloud.colors is not None:
        fields += [("red", "u1"), ("green", "u1"), ("blue", "u1")]
        data += [cloud.colors[:, 0], cloud.colors[:, 1], cloud.colors[:, 2]]
    types = {"f4": "float", "u1": "uchar"}
    header = ["ply", f"format {'binary_little_endian' if binary else 'ascii'} 1.0", f"element vertex {len(cloud)}"]
    header += [f"property {types[t]} {nm}" for nm, t in fields] + ["end_header"]
    rec = np.zeros(len(cloud), dtype=[(nm, "<" + t) for nm, t in fields])
    for (nm, _), col in zip(fields, data, strict=True):
        rec[nm] = col
    with open(path, "wb") as fh:
        fh.write(("\n".join(header) + "\n").encode("ascii"))
        if binary:
            fh.write(rec.tobytes())
        else:
            for row in rec:
                fh.write((" ".join(str(v) for v in row.tolist()) + "\n").encode("ascii"))
    return path


# -- PCD ------------------------------------------------------------------------------------
def _read_pcd(path: Path) -> dict[str, np.ndarray]:
    header: dict[str, list[str]] = {}
    with open(path, "rb") as fh:
        while True:
            line = fh.readline()
            if not line:
                raise DataError(f"{path}: PCD header has no DATA line (not a PCD file?)")
            words = line.decode("ascii", "replace").split()
            if not words or words[0].startswith("#"):
                continue
            header[words[0].upper()] = words[1:]
            if words[0].upper() == "DATA":
                break
        body = fh.read()
    need = ("FIELDS", "SIZE", "TYPE", "POINTS")
    if any(k not in header for k in need):
        raise DataError(f"{path}: PCD header lacks {[k for k in need if k not in header]}")
    try:
        fields, sizes, types = header["FIELDS"], [int(s) for s in header["SIZE"]], header["TYPE"]
        counts = [int(c) for c in header.get("COUNT", ["1"] * len(fields))]
        n = int(header["POINTS"][0])
        mode = header["DATA"][0].lower()
    except (IndexError, ValueError):
        raise DataError(f"{path}: malformed PCD header (SIZE, COUNT and POINTS must be integers)") from None
    if not len(fields) == len(sizes) == len(types) == len(counts):
        raise DataError(f"{path}: PCD header has {len(fields)} FIELDS but {len(sizes)} SIZE, {len(types)} TYPE, "
                        f"{len(counts)} COUNT entries")
    bad = [(t, sz) for t, sz in zip(types, sizes, strict=True) if t not in ("F", "I", "U") or sz not in (1, 2, 4, 8)]
    if bad:
        raise DataError(f"{path}: unsupported PCD field type/size {bad[0]} (TYPE F/I/U, SIZE 1/2/4/8)")
    if not {"x", "y", "z"} <= set(fields):
        raise DataError(f"{path}: PCD fields need x, y and z (found {fields})")
    if mode == "binary_compressed":
        raise DataError(
            f"{path}: binary_compressed PCD is not supported; convert it, e.g. with Open3D "
            "(o3d.io.write_point_cloud(out, o3d.io.read_point_cloud(path), write_ascii=False, compressed=False))"
        )
    kinds = {"F": "f", "I": "i", "U": "u"}
    dtype = np.dtype([
        (f, f"<{kinds[t]}{s}") if c == 1 else (f, f"<{kinds[t]}{s}", (c,))
        for f, s, t, c in zip(fields, sizes, types, counts, strict=True)
    ])
    if mode == "ascii":
        try:
            table = np.loadtxt(body.decode("ascii", "replace").splitlines(), dtype=np.float64, ndmin=2)
        except ValueError:
            raise DataError(f"{path}: PCD ascii data is not numeric") from None
        if len(table) < n:
            raise DataError(f"{path}: PCD declares {n} points but holds {len(table)}")
        offsets = np.cumsum([0, *counts])
        cols = {f: table[:n, offsets[i]] for i, f in enumerate(fields) if counts[i] == 1}
    elif mode == "binary":
        if len(body) < n * dtype.itemsize:
            raise DataError(f"{path}: truncated PCD body ({len(body)} bytes for {n} points of {dtype.itemsize})")
        rec = np.frombuffer(body, dtype=dtype, count=n)
        cols = {f: rec[f].astype(np.float64) for f, c in zip(fields, counts, strict=True) if c == 1}
    else:
        raise DataError(f"{path}: unknown PCD DATA mode {mode!r}")
    out = {"xyz": np.stack([cols["x"], cols["y"], cols["z"]], axis=1)}
    if {"normal_x", "normal_y", "normal_z"} <= set(cols):
        out["normals"] = np.stack([cols["normal_x"], cols["normal_y"], cols["normal_z"]], axis=1)
    return out


def write_pcd(path: str | Path, cloud: PointCloud, *, binary: bool = True) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(cloud)
    header = (
        "# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\n"
        f"COUNT 1 1 1\nWIDTH {n}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {n}\nDATA {'binary' if binary else 'ascii'}\n"
    )
    with open(path, "wb") as fh:
        fh.write(header.encode("ascii"))
        if binary:
            fh.write(np.ascontiguousarray(cloud.points, dtype="<f4").tobytes())
        else:
            np.savetxt(fh, cloud.points, fmt="%.7g")
    return path
