"""PLY reading and writing with numpy: ascii, binary little and big endian.

The header's element counts must match the body exactly, taking every declared element
into account (faces after vertices too): a count that is negative or not a whole number, a
body that ends early, and data beyond the declared elements are errors, because each would
otherwise load a different number of points than the file holds. The PLY format defines
nothing after the last element and plyfile / Open3D's rply ignore what is there; we ignore
it only when it is shorter than one record (padding such as a trailing newline), with a
warning and a count the loaders report. Data of a whole record or more is a wrong count.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from omniad.errors import DataError
from omniad_pointcloud.cloud import PointCloud

_PLY_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1", "short": "i2", "int16": "i2",
    "ushort": "u2", "uint16": "u2", "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}
_FORMATS = ("ascii", "binary_little_endian", "binary_big_endian")


@dataclass
class _Prop:
    name: str
    dtype: str  # a scalar's type; a list's item type
    count: str | None = None  # a list's length type; None for scalars


@dataclass
class _Element:
    name: str
    n: int
    props: list[_Prop] = field(default_factory=list)

    @property
    def scalar(self) -> bool:
        return all(p.count is None for p in self.props)


@dataclass
class _Header:
    fmt: str
    elements: list[_Element]
    body: bytes

    def describe(self) -> str:
        return ", ".join(f"{e.n} {e.name}" for e in self.elements)


def _header(path: Path) -> _Header:
    with open(path, "rb") as fh:
        if fh.readline().strip() != b"ply":
            raise DataError(f"{path}: not a PLY file (the first line must be 'ply')")
        fmt, elements = None, []
        while True:
            line = fh.readline()
            if not line:
                raise DataError(f"{path}: PLY header has no 'end_header'")
            text = line.decode("ascii", "replace").strip()
            words = text.split()
            if not words or words[0] in ("comment", "obj_info"):
                continue
            if words[0] == "end_header":
                break
            if words[0] == "format" and len(words) >= 2:
                fmt = words[1]
            elif words[0] == "element" and len(words) == 3:
                if any(e.name == words[1] for e in elements):
                    raise DataError(f"{path}: PLY element {words[1]!r} is declared twice")
                elements.append(_Element(words[1], _count(path, text, words[2])))
            elif words[0] == "property":
                if not elements:
                    raise DataError(f"{path}: PLY property line before any element: {text!r}")
                prop = _property(path, text, words)
                if any(p.name == prop.name for p in elements[-1].props):
                    raise DataError(f"{path}: PLY property {prop.name!r} of element {elements[-1].name} is declared twice")
                elements[-1].props.append(prop)
            elif words[0] in ("format", "element"):
                raise DataError(f"{path}: malformed PLY header line {text!r}")
            else:
                raise DataError(f"{path}: unknown PLY header line {text!r} (expected format, element, property, "
                                "comment or end_header)")
        body = fh.read()
    if fmt not in _FORMATS:
        raise DataError(f"{path}: unsupported PLY format {fmt!r}; use one of {', '.join(_FORMATS)}")
    return _Header(fmt, elements, body)


def _count(path: Path, line: str, word: str) -> int:
    if not word.isdigit():  # no sign, no decimal point, no exponent: int() would take '+5' and ' 5'
        raise DataError(f"{path}: PLY header line {line!r}: the element count must be a whole number >= 0")
    return int(word)


def _property(path: Path, line: str, words: list[str]) -> _Prop:
    is_list = len(words) > 1 and words[1] == "list"
    if len(words) != (5 if is_list else 3):
        raise DataError(f"{path}: malformed PLY header line {line!r}")
    types = words[2:4] if is_list else words[1:2]
    unknown = [t for t in types if t not in _PLY_TYPES]
    if unknown:
        raise DataError(f"{path}: unknown PLY property type {unknown[0]!r} in {line!r}")
    if not is_list:
        return _Prop(words[2], _PLY_TYPES[words[1]])
    if _PLY_TYPES[words[2]][0] not in "iu":
        raise DataError(f"{path}: PLY list length type {words[2]!r} must be an integer type ({line!r})")
    return _Prop(words[4], _PLY_TYPES[words[3]], _PLY_TYPES[words[2]])


def read_elements(path: Path, want: tuple[str, ...], header: _Header | None = None
                  ) -> tuple[dict[str, dict[str, np.ndarray]], int]:
    """The elements named in ``want``, property by property, and the count of ignored trailing bytes.

    Lists must have one length per element (triangles) and are read as ``(count, k)`` arrays.
    """
    h = header or _header(path)
    if h.fmt == "ascii":
        return _read_ascii(path, h, want), 0
    return _read_binary(path, h, want)


def _read_ascii(path: Path, h: _Header, want: tuple[str, ...]) -> dict[str, dict[str, np.ndarray]]:
    lines = [ln for ln in h.body.decode("ascii", "replace").splitlines() if ln.strip()]
    out: dict[str, dict[str, np.ndarray]] = {}
    at = 0
    for e in h.elements:
        rows = [ln.split() for ln in lines[at : at + e.n]]
        if len(rows) < e.n:
            raise DataError(f"{path}: truncated PLY body: the header declares {e.n} {e.name} lines after {at} lines "
                            f"of earlier elements, but {len(rows)} are left")
        at += e.n
        if e.name in want:
            out[e.name] = _ascii_element(path, e, rows)
    if len(lines) > at:
        raise DataError(f"{path}: the PLY body holds {len(lines) - at} lines more than the {at} the header declares "
                        f"({h.describe()}){_hint(h, len(lines) - at, 1)}")
    return out


def _ascii_element(path: Path, e: _Element, rows: list[list[str]]) -> dict[str, np.ndarray]:
    if e.scalar:
        bad = next((i for i, r in enumerate(rows) if len(r) != len(e.props)), None)
        if bad is not None:
            raise DataError(f"{path}: PLY {e.name} line {bad} has {len(rows[bad])} values but the header names "
                            f"{len(e.props)} ({', '.join(p.name for p in e.props)}); declare every column")
        try:
            table = np.array(rows, dtype=np.float64).reshape(e.n, len(e.props))
        except ValueError:
            raise DataError(f"{path}: PLY {e.name} lines are not numeric") from None
        return {p.name: table[:, i] for i, p in enumerate(e.props)}
    if len(e.props) != 1:
        raise DataError(f"{path}: PLY {e.name} mixes list and scalar properties; only plain face lists are read")
    try:
        lengths = [int(r[0]) for r in rows]
        k = lengths[0] if rows else 3
        uniform = all(m == k and len(r) == k + 1 for m, r in zip(lengths, rows, strict=True))
        table = np.array([r[1:] for r in rows], dtype=np.int64).reshape(e.n, k) if uniform else None
    except ValueError:
        raise DataError(f"{path}: PLY {e.name} lines are not integer lists") from None
    if table is None:
        raise DataError(f"{path}: {e.name} lists of mixed length are not supported; triangulate the mesh")
    return {e.props[0].name: table}


def _read_binary(path: Path, h: _Header, want: tuple[str, ...]) -> tuple[dict[str, dict[str, np.ndarray]], int]:
    order = "<" if h.fmt == "binary_little_endian" else ">"
    body, at, record, last = h.body, 0, None, 1
    out: dict[str, dict[str, np.ndarray]] = {}
    for e in h.elements:
        dtype = _first_record(path, e, body, at, order)
        rec, size = _binary_element(path, e, body, at, order, dtype)
        record = dtype.itemsize if record is None else min(record, dtype.itemsize)
        last = dtype.itemsize
        at += size
        if e.name not in want:
            continue
        if rec is None:
            raise DataError(f"{path}: {e.name} lists of mixed length are not supported; triangulate the mesh")
        out[e.name] = {p.name: rec[p.name].astype(np.float64 if p.count is None else np.int64) for p in e.props}
    extra = len(body) - at
    if extra and record is not None and extra >= record:
        raise DataError(f"{path}: the PLY body holds {extra} bytes more than the {at} the header declares "
                        f"({h.describe()}){_hint(h, extra, last)}")
    if extra:
        warnings.warn(f"{path}: {extra} byte{'s' if extra > 1 else ''} after the declared PLY elements "
                      "(fewer than one record: padding) ignored", UserWarning, stacklevel=4)
    return out, extra


def _hint(h: _Header, extra: int, unit: int) -> str:
    """How to fix a body longer than declared, when the last element is the one that grew."""
    last = h.elements[-1] if h.elements else None
    if last is None or not last.scalar or extra % unit:
        return "; the header's element counts are wrong"
    more = extra // unit
    return (f": {more} more {last.name} record{'s' if more > 1 else ''}; if they belong to the file, "
            f"set 'element {last.name} {last.n + more}'")


def _first_record(path: Path, e: _Element, body: bytes, at: int, order: str) -> np.dtype:
    """The record type of ``e``, list lengths taken from its first record (0 when it has none)."""
    fields: list[tuple] = []
    pos = at
    for p in e.props:
        if p.count is None:
            fields.append((p.name, order + p.dtype))
            pos += np.dtype(p.dtype).itemsize
            continue
        ct, it = np.dtype(order + p.count), np.dtype(order + p.dtype)
        k = 0
        if e.n:
            if len(body) < pos + ct.itemsize:
                raise DataError(f"{path}: truncated PLY body in element {e.name}")
            k = int(np.frombuffer(body, dtype=ct, count=1, offset=pos)[0])
            if k < 0:
                raise DataError(f"{path}: negative list length {k} in the first {e.name} record")
        fields += [(p.name + "#n", ct), (p.name, it, (k,))]
        pos += ct.itemsize + k * it.itemsize
    return np.dtype(fields)


def _binary_element(path: Path, e: _Element, body: bytes, at: int, order: str, dtype: np.dtype
                    ) -> tuple[np.ndarray | None, int]:
    """The records of ``e`` (None when its lists vary in length) and their exact size in bytes."""
    size = e.n * dtype.itemsize
    if len(body) >= at + size:
        rec = np.frombuffer(body, dtype=dtype, count=e.n, offset=at)
        if all(p.count is None or np.all(rec[p.name + "#n"] == dtype[p.name].shape[0]) for p in e.props):
            return rec, size
    elif e.scalar:
        raise DataError(f"{path}: truncated PLY body ({len(body) - at} bytes left for {e.n} {e.name} records of "
                        f"{dtype.itemsize})")
    return None, _walk(path, e, body, at, order)


def _walk(path: Path, e: _Element, body: bytes, at: int, order: str) -> int:
    """The size of an element whose lists vary in length, record by record (slow, only for such meshes)."""
    pos = at
    steps = [(np.dtype(order + p.dtype).itemsize, None) if p.count is None
             else (np.dtype(order + p.count), np.dtype(order + p.dtype).itemsize) for p in e.props]
    for i in range(e.n):
        for first, item in steps:
            if item is None:
                pos += first
                continue
            if len(body) < pos + first.itemsize:
                raise DataError(f"{path}: truncated PLY body in element {e.name} (record {i} of {e.n})")
            k = int(np.frombuffer(body, dtype=first, count=1, offset=pos)[0])
            if k < 0:
                raise DataError(f"{path}: negative list length {k} in {e.name} record {i}")
            pos += first.itemsize + k * item
    if pos > len(body):
        raise DataError(f"{path}: truncated PLY body in element {e.name}")
    return pos - at


def read_ply(path: Path) -> tuple[dict[str, np.ndarray], int]:
    """Vertex columns (xyz, optional normals and rgb) and the count of ignored trailing bytes."""
    h = _header(path)
    vertex = next((e for e in h.elements if e.name == "vertex"), None)
    if vertex is None:
        raise DataError(f"{path}: PLY has no vertex element")
    if not vertex.scalar:
        raise DataError(f"{path}: list properties on vertices are not supported")
    names = [p.name for p in vertex.props]
    if not {"x", "y", "z"} <= set(names):
        raise DataError(f"{path}: PLY vertices need x, y and z properties (found {names})")
    elements, extra = read_elements(path, ("vertex",), h)
    return _columns(elements["vertex"]), extra


def read_ply_mesh(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """A triangle mesh's vertices ``(V, 3)`` and faces ``(F, 3)`` from a PLY file (for :mod:`shapes`)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such mesh file")
    vertices = read_ply(path)[0]["xyz"]
    if len(vertices) == 0 or not np.all(np.isfinite(vertices)):
        raise DataError(f"{path}: the mesh has no vertices or NaN/inf coordinates")
    faces = read_elements(path, ("face",))[0].get("face")
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
