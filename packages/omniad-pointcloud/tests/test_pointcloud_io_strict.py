"""Readers against files whose body disagrees with their header, or whose arrays are not numbers.

Every case must be a DataError naming the file (and the array or element) with what is
expected; nothing may load silently with fewer or more points than the file holds. The
one tolerated mismatch is a few bytes of padding after a binary body (fewer than one
record), which plyfile and Open3D also ignore: it loads with a warning and is counted in
``cloud.meta["trailing_bytes"]``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from omniad.errors import DataError
from omniad_pointcloud.io import read_cloud, read_labelled_txt, read_labels, read_ply_mesh

XYZ = "property float x\nproperty float y\nproperty float z\n"


def _pts(n: int) -> np.ndarray:
    return np.random.default_rng(n).normal(size=(n, 3)).astype(np.float32)


def _ply(path: Path, declared: str, body: bytes, fmt: str = "binary_little_endian", extra: str = "") -> Path:
    path.write_bytes(
        f"ply\nformat {fmt} 1.0\nelement vertex {declared}\n{XYZ}{extra}end_header\n".encode() + body
    )
    return path


def _ascii_rows(pts: np.ndarray) -> bytes:
    return "".join(" ".join(f"{v:.6g}" for v in r) + "\n" for r in pts.tolist()).encode()


# -- NumPy ------------------------------------------------------------------------------------
def test_npz_object_array_names_the_file_and_the_array(tmp_path: Path) -> None:
    ragged = np.empty(2, dtype=object)
    ragged[0], ragged[1] = np.zeros(3), np.zeros(4)
    np.savez(tmp_path / "o.npz", points=ragged)
    with pytest.raises(DataError, match=r"o\.npz: array 'points' is an object array .*numeric") as info:
        read_cloud(tmp_path / "o.npz")
    assert "allow_pickle" not in str(info.value)
    np.save(tmp_path / "o.npy", ragged, allow_pickle=True)
    with pytest.raises(DataError, match=r"o\.npy: .*object array .*numeric"):
        read_cloud(tmp_path / "o.npy")


@pytest.mark.parametrize(
    ("array", "needle"),
    [
        (np.zeros((20, 3), complex), "complex128"),
        (np.zeros((20, 3), bool), "bool"),
        (np.full((20, 3), "a"), "<U1"),
        (np.zeros((20, 3), "m8[s]"), "timedelta64"),
        (np.zeros(20, dtype=[("x", "f4"), ("y", "f4"), ("z", "f4")]), "structured"),
        (np.zeros(30, np.float32), r"shape \(30,\)"),
    ],
)
def test_numpy_arrays_that_are_not_coordinates(tmp_path: Path, array: np.ndarray, needle: str) -> None:
    np.savez(tmp_path / "a.npz", points=array)
    with pytest.raises(DataError, match=rf"a\.npz: array 'points' .*{needle}"):
        read_cloud(tmp_path / "a.npz")
    np.save(tmp_path / "a.npy", array)
    with pytest.raises(DataError, match=rf"a\.npy: .*{needle}"):
        read_cloud(tmp_path / "a.npy")


def test_truncated_numpy_files(tmp_path: Path) -> None:
    np.savez(tmp_path / "full.npz", points=_pts(100))
    data = (tmp_path / "full.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"cut\.npz: not a NumPy array file"):
        read_cloud(tmp_path / "cut.npz")
    with zipfile.ZipFile(tmp_path / "bad.npz", "w") as zf:  # a member that is not an .npy
        zf.writestr("points.npy", b"\x93NUMPY garbage")
    with pytest.raises(DataError, match=r"bad\.npz: array 'points' is not readable"):
        read_cloud(tmp_path / "bad.npz")
    np.save(tmp_path / "full.npy", _pts(100))
    (tmp_path / "cut.npy").write_bytes((tmp_path / "full.npy").read_bytes()[:300])
    with pytest.raises(DataError, match=r"cut\.npy: not a NumPy array file"):
        read_cloud(tmp_path / "cut.npy")


def test_numpy_data_beyond_the_declared_shape_is_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "full.npy", _pts(64))
    edited = (
        (tmp_path / "full.npy").read_bytes().replace(b"(64, 3)", b"(32, 3)")
    )  # numpy alone loads 32 points
    (tmp_path / "half.npy").write_bytes(edited)
    with pytest.raises(
        DataError, match=r"half\.npy: the header declares shape \(32, 3\) .*384 bytes.* 768 bytes"
    ):
        read_cloud(tmp_path / "half.npy")
    with zipfile.ZipFile(tmp_path / "half.npz", "w") as zf:
        zf.writestr("points.npy", edited)
    with pytest.raises(DataError, match=r"half\.npz: array 'points': the header declares shape \(32, 3\)"):
        read_cloud(tmp_path / "half.npz")


def _zip_method(path: Path, payload: bytes, method: int) -> Path:
    """An .npz whose one member claims compression ``method`` (the data stays stored as is)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("points.npy", payload)
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    data[8:10] = data[central + 10 : central + 12] = method.to_bytes(2, "little")
    path.write_bytes(bytes(data))
    return path


def test_damaged_numpy_files_never_raise_the_library_error(tmp_path: Path) -> None:
    """Found by mutating valid files: numpy's header tokenizer, zlib and zipfile raised their own types."""
    np.save(tmp_path / "ok.npy", _pts(64))
    raw = (tmp_path / "ok.npy").read_bytes()
    (tmp_path / "brace.npy").write_bytes(raw.replace(b"}", b" ", 1))
    with pytest.raises(DataError, match=r"brace\.npy: not a NumPy array file \(tokenize\.TokenError"):
        read_cloud(tmp_path / "brace.npy")
    with pytest.raises(DataError, match=r"m\.npz: not a NumPy array file \(\.npz: NotImplementedError"):
        read_cloud(_zip_method(tmp_path / "m.npz", raw, 99))
    with zipfile.ZipFile(tmp_path / "z.npz", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("points.npy", raw)
    data = bytearray((tmp_path / "z.npz").read_bytes())
    data[30 + int.from_bytes(data[26:28], "little")] = 0xFF  # first deflate block: reserved type 3
    (tmp_path / "z.npz").write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"z\.npz: array 'points' is not readable \(zlib\.error"):
        read_cloud(tmp_path / "z.npz")
    (tmp_path / "brace_labels.npy").write_bytes(raw.replace(b"}", b" ", 1))
    with pytest.raises(DataError, match=r"brace_labels\.npy: not a NumPy array file"):
        read_labels(tmp_path / "brace_labels.npy")


def test_a_broken_tiff_is_one_error_and_no_log_lines(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import tifffile

    tifffile.imwrite(tmp_path / "ok.tiff", _pts(48).reshape(4, 4, 9)[..., :3].copy())
    data = bytearray((tmp_path / "ok.tiff").read_bytes())
    data[10:40] = b"\xff" * 30  # the first tag entries
    (tmp_path / "bad.tiff").write_bytes(bytes(data))
    with (
        caplog.at_level("DEBUG", logger="tifffile"),
        pytest.raises(DataError, match=r"bad\.tiff: not a readable"),
    ):
        read_cloud(tmp_path / "bad.tiff")
    assert not [r for r in caplog.records if r.name == "tifffile"]


def test_columns_and_labels_name_the_problem(tmp_path: Path) -> None:
    (tmp_path / "rag.txt").write_text("1 2 3\n4 5 6 7\n" * 5)
    with pytest.raises(DataError, match=r"rag\.txt: .*columns") as info:
        read_cloud(tmp_path / "rag.txt")
    assert "usecols" not in str(info.value)  # numpy's advice about its own arguments is no help here
    np.savetxt(tmp_path / "gt.txt", np.c_[np.r_[_pts(9), [[np.nan, 0, 0]]], np.zeros(10)])
    with pytest.raises(
        DataError, match=r"gt\.txt: 1 of 10 labelled points have NaN/inf coordinates \(first at row 9\)"
    ):
        read_labelled_txt(tmp_path / "gt.txt")


def test_tiff_of_the_wrong_type(tmp_path: Path) -> None:
    import tifffile

    tifffile.imwrite(tmp_path / "rgb.tiff", np.full((16, 16, 3), 7, np.uint8), photometric="rgb")
    with pytest.raises(DataError, match=r"rgb\.tiff: .*uint8.*float coordinates"):
        read_cloud(tmp_path / "rgb.tiff")
    tifffile.imwrite(tmp_path / "c.tiff", np.full((16, 16, 3), 1 + 1j, np.complex64), photometric="rgb")
    with pytest.raises(DataError, match=r"c\.tiff: .*complex64"):
        read_cloud(tmp_path / "c.tiff")


# -- PLY --------------------------------------------------------------------------------------
def test_binary_ply_with_more_points_than_declared(tmp_path: Path) -> None:
    path = _ply(tmp_path / "more.ply", "100", _pts(500).tobytes())
    with pytest.raises(
        DataError,
        match=r"more\.ply: .*4800 bytes more than the 1200 .*400 more vertex records.*'element vertex 500'",
    ):
        read_cloud(path)


def test_ascii_ply_counts_must_be_whole_numbers_that_match(tmp_path: Path) -> None:
    rows = _ascii_rows(_pts(500))
    for declared in ("-5", "1.5", "1e2", "many"):
        path = _ply(tmp_path / "c.ply", declared, rows, fmt="ascii")
        with pytest.raises(DataError, match=rf"c\.ply: .*'element vertex {declared}'.*whole number"):
            read_cloud(path)
    path = _ply(tmp_path / "more.ply", "100", rows, fmt="ascii")
    with pytest.raises(DataError, match=r"more\.ply: .*400 lines more than the 100 .*'element vertex 500'"):
        read_cloud(path)
    path = _ply(tmp_path / "wide.ply", "500", rows.replace(b"\n", b" 1\n"), fmt="ascii")
    with pytest.raises(DataError, match=r"wide\.ply: PLY vertex line 0 has 4 values but the header names 3"):
        read_cloud(path)


def _faces(fmt: str, lengths: list[int]) -> bytes:
    if fmt == "ascii":
        return b"".join((" ".join(map(str, [k, *range(k)])) + "\n").encode() for k in lengths)
    return b"".join(np.array([k], "u1").tobytes() + np.arange(k, dtype="<i4").tobytes() for k in lengths)


FACE = "element face {}\nproperty list uchar int vertex_indices\n"


@pytest.mark.parametrize("fmt", ["ascii", "binary_little_endian"])
def test_every_declared_element_is_counted(tmp_path: Path, fmt: str) -> None:
    pts = _pts(20)
    verts = _ascii_rows(pts) if fmt == "ascii" else pts.tobytes()
    ok = _ply(tmp_path / "ok.ply", "20", verts + _faces(fmt, [3, 3]), fmt, FACE.format(2))
    np.testing.assert_allclose(read_cloud(ok).points, pts, atol=1e-5)
    short = _ply(tmp_path / "short.ply", "20", verts + _faces(fmt, [3, 3]), fmt, FACE.format(5))
    with pytest.raises(DataError, match=r"short\.ply: truncated PLY body.* face"):
        read_cloud(short)
    more = _ply(tmp_path / "more.ply", "20", verts + _faces(fmt, [3, 3, 3, 3]), fmt, FACE.format(2))
    with pytest.raises(DataError, match=r"more\.ply: .*more than .*declares"):
        read_cloud(more)


def test_mixed_faces_after_vertices_are_measured_exactly(tmp_path: Path) -> None:
    """A quad then a triangle: sizing every face like the first (17 bytes) would call the body truncated."""
    pts = _pts(20)
    path = _ply(tmp_path / "m.ply", "20", pts.tobytes() + _faces("binary", [4, 3]), extra=FACE.format(2))
    np.testing.assert_allclose(read_cloud(path).points, pts)
    with pytest.raises(DataError, match="mixed length"):
        read_ply_mesh(path)


def test_binary_padding_loads_with_a_counted_warning(tmp_path: Path) -> None:
    pts = _pts(50)
    path = _ply(tmp_path / "pad.ply", "50", pts.tobytes() + b"\n")
    with pytest.warns(UserWarning, match=r"pad\.ply: 1 byte after the declared PLY elements"):
        cloud = read_cloud(path)
    np.testing.assert_array_equal(cloud.points, pts)
    assert cloud.meta["trailing_bytes"] == 1


@pytest.mark.parametrize(
    ("header", "needle"),
    [
        (f"element vertex 10\n{XYZ}property float z\n", "property 'z' of element vertex is declared twice"),
        (f"element vertex 10\n{XYZ}element vertex 10\n{XYZ}", "element 'vertex' is declared twice"),
        (f"property float w\nelement vertex 10\n{XYZ}", "property line before any element"),
        (f"elemnt vertex 10\n{XYZ}", "unknown PLY header line 'elemnt vertex 10'"),
        (
            f"element vertex 10\n{XYZ}element face 1\nproperty list float int vertex_indices\n",
            "list length type 'float' must be an integer type",
        ),
    ],
)
def test_malformed_ply_headers(tmp_path: Path, header: str, needle: str) -> None:
    path = tmp_path / "h.ply"
    path.write_bytes(
        f"ply\nformat binary_little_endian 1.0\n{header}end_header\n".encode() + _pts(10).tobytes()
    )
    with pytest.raises(DataError, match=rf"h\.ply: .*{needle}"):
        read_cloud(path)


# -- PCD --------------------------------------------------------------------------------------
def _pcd(
    path: Path,
    body: bytes,
    points: int,
    mode: str = "binary",
    extra: str = "",
    fields: str = "x y z",
    size: str = "4 4 4",
    types: str = "F F F",
) -> Path:
    path.write_bytes(
        f"VERSION 0.7\nFIELDS {fields}\nSIZE {size}\nTYPE {types}\n{extra}POINTS {points}\nDATA {mode}\n".encode()
        + body
    )
    return path


def test_pcd_points_must_match_width_times_height(tmp_path: Path) -> None:
    pts = _pts(20)
    path = _pcd(tmp_path / "wh.pcd", pts.tobytes(), 20, extra="WIDTH 5\nHEIGHT 2\n")
    with pytest.raises(DataError, match=r"wh\.pcd: WIDTH x HEIGHT = 5 x 2 = 10 but POINTS is 20"):
        read_cloud(path)
    organised = _pcd(tmp_path / "org.pcd", pts.tobytes(), 20, extra="WIDTH 5\nHEIGHT 4\n")
    np.testing.assert_array_equal(read_cloud(organised).points, pts)
    for bad in ("-3", "2.5"):
        path = _pcd(tmp_path / "neg.pcd", pts.tobytes(), bad)  # type: ignore[arg-type]
        with pytest.raises(DataError, match=r"neg\.pcd: .*POINTS .*whole number"):
            read_cloud(path)


@pytest.mark.parametrize("mode", ["binary", "ascii"])
def test_pcd_body_longer_than_declared(tmp_path: Path, mode: str) -> None:
    pts = _pts(50)
    body = pts.tobytes() if mode == "binary" else _ascii_rows(pts)
    path = _pcd(tmp_path / "more.pcd", body, 20, mode, extra="WIDTH 20\nHEIGHT 1\n")
    with pytest.raises(DataError, match=r"more\.pcd: .*30 more points\b.*POINTS 50"):
        read_cloud(path)


def test_pcd_binary_padding_and_ascii_columns(tmp_path: Path) -> None:
    pts = _pts(20)
    path = _pcd(tmp_path / "pad.pcd", pts.tobytes() + b"\n\n", 20)
    with pytest.warns(UserWarning, match=r"pad\.pcd: 2 bytes after the 20 declared points"):
        cloud = read_cloud(path)
    assert cloud.meta["trailing_bytes"] == 2
    np.testing.assert_array_equal(cloud.points, pts)
    narrow = _pcd(tmp_path / "narrow.pcd", _ascii_rows(pts[:, :2]), 20, "ascii")
    with pytest.raises(DataError, match=r"narrow\.pcd: PCD ascii line 0 has 2 values but the fields need 3"):
        read_cloud(narrow)
    wide = _pcd(tmp_path / "wide.pcd", _ascii_rows(np.c_[pts, pts]), 20, "ascii")
    with pytest.raises(DataError, match=r"wide\.pcd: PCD ascii line 0 has 6 values but the fields need 3"):
        read_cloud(wide)


def test_pcd_field_types_and_names(tmp_path: Path) -> None:
    pts = _pts(20)
    path = _pcd(tmp_path / "f1.pcd", pts.tobytes(), 20, size="1 1 1")
    with pytest.raises(DataError, match=r"f1\.pcd: unsupported PCD field type/size \('F', 1\)"):
        read_cloud(path)
    dup = _pcd(
        tmp_path / "dup.pcd",
        np.c_[pts, pts[:, :1]].tobytes(),
        20,
        fields="x y z z",
        size="4 4 4 4",
        types="F F F F",
    )
    with pytest.raises(DataError, match=r"dup\.pcd: PCD field 'z' is declared twice"):
        read_cloud(dup)
    padded = _pcd(
        tmp_path / "pad.pcd",
        np.c_[pts[:, :1], pts[:, :1], pts, pts[:, :1]].astype("<f4").tobytes(),
        20,
        fields="_ _ x y z _",
        size="4 4 4 4 4 4",
        types="F F F F F F",
    )  # PCL names padding '_'
    np.testing.assert_array_equal(read_cloud(padded).points, pts)
