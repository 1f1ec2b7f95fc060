"""PCD reading and writing with numpy: ascii and binary (binary_compressed is refused with the conversion).

``POINTS`` must be a whole number equal to ``WIDTH x HEIGHT`` (PCL refuses the file
otherwise; a missing HEIGHT is 1 and a missing WIDTH is POINTS, as PCL reads old files),
and the body must hold exactly that many points: fewer is a truncated file, and a whole
point or more beyond them is a wrong count. Bytes after a binary body that are fewer than
one point (padding) are ignored with a warning and counted, as for PLY.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from omniad.errors import DataError
from omniad_pointcloud.cloud import PointCloud

_KINDS = {"F": "f", "I": "i", "U": "u"}
_SIZES = {"F": (4, 8), "I": (1, 2, 4, 8), "U": (1, 2, 4, 8)}


def _header(path: Path) -> tuple[dict[str, list[str]], bytes]:
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
        return header, fh.read()


def _whole(path: Path, key: str, words: list[str] | None, default: int | None = None) -> int:
    if words is None and default is not None:
        return default
    if not words or len(words) != 1 or not words[0].isdigit():
        raise DataError(f"{path}: PCD {key} {' '.join(words or [])!r} must be one whole number >= 0")
    return int(words[0])


def read_pcd(path: Path) -> tuple[dict[str, np.ndarray], int]:
    """Columns xyz (and normals when the file has normal_x/y/z) and the count of ignored trailing bytes."""
    header, body = _header(path)
    need = ("FIELDS", "SIZE", "TYPE", "POINTS")
    if any(k not in header for k in need):
        raise DataError(f"{path}: PCD header lacks {[k for k in need if k not in header]}")
    fields, types = header["FIELDS"], header["TYPE"]
    try:
        sizes = [int(s) for s in header["SIZE"]]
        counts = [int(c) for c in header.get("COUNT", ["1"] * len(fields))]
        mode = header["DATA"][0].lower()
    except (IndexError, ValueError):
        raise DataError(f"{path}: malformed PCD header (SIZE and COUNT must be integers, DATA needs a mode)") from None
    n = _whole(path, "POINTS", header["POINTS"])
    height = _whole(path, "HEIGHT", header.get("HEIGHT"), default=1)
    width = _whole(path, "WIDTH", header.get("WIDTH"), default=n)
    if width * height != n:
        raise DataError(f"{path}: WIDTH x HEIGHT = {width} x {height} = {width * height} but POINTS is {n}; "
                        "the header contradicts itself (PCL refuses such a file): fix whichever is wrong")
    if not len(fields) == len(sizes) == len(types) == len(counts):
        raise DataError(f"{path}: PCD header has {len(fields)} FIELDS but {len(sizes)} SIZE, {len(types)} TYPE, "
                        f"{len(counts)} COUNT entries")
    bad = [(t, sz) for t, sz in zip(types, sizes, strict=True) if sz not in _SIZES.get(t, ())]
    if bad:
        raise DataError(f"{path}: unsupported PCD field type/size {bad[0]} (TYPE F with SIZE 4/8, I/U with 1/2/4/8)")
    if any(c < 1 for c in counts):
        raise DataError(f"{path}: PCD COUNT entries must be >= 1 (found {counts})")
    named = [f for f in fields if f != "_"]  # PCL names padding fields '_', as often as it needs
    twice = next((f for f in named if named.count(f) > 1), None)
    if twice is not None:
        raise DataError(f"{path}: PCD field {twice!r} is declared twice in FIELDS {' '.join(fields)}")
    if not {"x", "y", "z"} <= set(fields):
        raise DataError(f"{path}: PCD fields need x, y and z (found {fields})")
    if mode == "binary_compressed":
        raise DataError(
            f"{path}: binary_compressed PCD is not supported; convert it, e.g. with Open3D "
            "(o3d.io.write_point_cloud(out, o3d.io.read_point_cloud(path), write_ascii=False, compressed=False))"
        )
    keys = [f if f != "_" else f"_{i}" for i, f in enumerate(fields)]
    if mode == "ascii":
        cols, extra = _ascii(path, body, n, keys, counts), 0
    elif mode == "binary":
        dtype = np.dtype([
            (f, f"<{_KINDS[t]}{s}") if c == 1 else (f, f"<{_KINDS[t]}{s}", (c,))
            for f, s, t, c in zip(keys, sizes, types, counts, strict=True)
        ])
        cols, extra = _binary(path, body, n, dtype, keys, counts)
    else:
        raise DataError(f"{path}: unknown PCD DATA mode {mode!r} (ascii, binary or binary_compressed)")
    out = {"xyz": np.stack([cols["x"], cols["y"], cols["z"]], axis=1)}
    if {"normal_x", "normal_y", "normal_z"} <= set(cols):
        out["normals"] = np.stack([cols["normal_x"], cols["normal_y"], cols["normal_z"]], axis=1)
    return out, extra


def _ascii(path: Path, body: bytes, n: int, keys: list[str], counts: list[int]) -> dict[str, np.ndarray]:
    rows = [ln.split() for ln in body.decode("ascii", "replace").splitlines() if ln.strip()]
    if len(rows) < n:
        raise DataError(f"{path}: PCD declares {n} points but holds {len(rows)}")
    if len(rows) > n:
        raise DataError(f"{path}: PCD ascii data holds {len(rows) - n} more point{'s' if len(rows) - n > 1 else ''} "
                        f"than the {n} the header declares; if they belong to the cloud, set POINTS {len(rows)} "
                        f"(and WIDTH x HEIGHT to match)")
    width = sum(counts)
    bad = next((i for i, r in enumerate(rows) if len(r) != width), None)
    if bad is not None:
        raise DataError(f"{path}: PCD ascii line {bad} has {len(rows[bad])} values but the fields need {width}")
    try:
        table = np.array(rows, dtype=np.float64).reshape(n, width)
    except ValueError:
        raise DataError(f"{path}: PCD ascii data is not numeric") from None
    offsets = np.cumsum([0, *counts])
    return {f: table[:, offsets[i]] for i, f in enumerate(keys) if counts[i] == 1}


def _binary(path: Path, body: bytes, n: int, dtype: np.dtype, keys: list[str], counts: list[int]
            ) -> tuple[dict[str, np.ndarray], int]:
    size = n * dtype.itemsize
    if len(body) < size:
        raise DataError(f"{path}: truncated PCD body ({len(body)} bytes for {n} points of {dtype.itemsize})")
    extra = len(body) - size
    if extra >= dtype.itemsize:
        more = extra // dtype.itemsize
        fix = f"set POINTS {n + more} (and WIDTH x HEIGHT to match)" if extra % dtype.itemsize == 0 else "fix POINTS"
        raise DataError(f"{path}: the PCD body holds {extra} bytes more than the {n} declared points of "
                        f"{dtype.itemsize} bytes: {more} more point{'s' if more > 1 else ''}; if they belong to the "
                        f"cloud, {fix}")
    if extra:
        warnings.warn(f"{path}: {extra} byte{'s' if extra > 1 else ''} after the {n} declared points "
                      "(fewer than one point: padding) ignored", UserWarning, stacklevel=4)
    rec = np.frombuffer(body, dtype=dtype, count=n)
    return {f: rec[f].astype(np.float64) for f, c in zip(keys, counts, strict=True) if c == 1}, extra


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
