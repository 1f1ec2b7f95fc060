"""File readers: round trips through every writer and format, and clear errors on bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from omniad.errors import DataError
from omniad_pointcloud.cloud import PointCloud, as_cloud
from omniad_pointcloud.io import read_cloud, read_labelled_txt, write_pcd, write_ply


@pytest.fixture
def cloud() -> PointCloud:
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(50, 3)).astype(np.float32)
    nrm = pts / np.linalg.norm(pts, axis=1, keepdims=True)
    return PointCloud(points=pts, normals=nrm, colors=rng.integers(0, 255, (50, 3)).astype(np.uint8))


@pytest.mark.parametrize("binary", [True, False])
def test_ply_round_trip(tmp_path: Path, cloud: PointCloud, binary: bool) -> None:
    back = read_cloud(write_ply(tmp_path / "c.ply", cloud, binary=binary))
    np.testing.assert_allclose(back.points, cloud.points, atol=1e-5)
    np.testing.assert_allclose(back.normals, cloud.normals, atol=1e-5)
    np.testing.assert_array_equal(back.colors, cloud.colors)


@pytest.mark.parametrize("binary", [True, False])
def test_pcd_round_trip(tmp_path: Path, cloud: PointCloud, binary: bool) -> None:
    back = read_cloud(write_pcd(tmp_path / "c.pcd", cloud, binary=binary))
    np.testing.assert_allclose(back.points, cloud.points, atol=1e-5)


def test_numpy_text_and_tiff(tmp_path: Path, cloud: PointCloud) -> None:
    import tifffile

    np.save(tmp_path / "c.npy", cloud.points)
    np.savez(tmp_path / "c.npz", points=cloud.points, other=np.zeros(3))
    np.savetxt(tmp_path / "c.xyz", cloud.points)
    for name in ("c.npy", "c.npz", "c.xyz"):
        np.testing.assert_allclose(read_cloud(tmp_path / name).points, cloud.points, atol=1e-5)
    grid = np.zeros((4, 5, 3), np.float32)
    grid[1:3, 1:5] = np.arange(24, dtype=np.float32).reshape(2, 4, 3) + 1
    tifffile.imwrite(tmp_path / "g.tiff", grid, photometric="rgb")
    scan = read_cloud(tmp_path / "g.tiff")
    assert len(scan) == 8 and scan.grid.shape == (4, 5) and (scan.grid >= 0).sum() == 8
    np.testing.assert_array_equal(scan.grid_values(np.arange(8), fill=-1)[1, 1:5], [0, 1, 2, 3])


def test_open3d_reads_what_we_write(tmp_path: Path, cloud: PointCloud) -> None:
    from omniad_pointcloud import reference

    o3d = reference.open3d()
    if o3d is None:
        pytest.skip("Open3D is not importable here (pip install omniad-pointcloud[open3d])")
    for path in (write_ply(tmp_path / "c.ply", cloud), write_pcd(tmp_path / "c.pcd", cloud)):
        np.testing.assert_allclose(np.asarray(o3d.io.read_point_cloud(str(path)).points), cloud.points, atol=1e-5)


def test_labelled_txt(tmp_path: Path) -> None:
    np.savetxt(tmp_path / "gt.txt", np.c_[np.ones((10, 3)), np.r_[np.zeros(5), np.ones(5)]])
    pts, labels = read_labelled_txt(tmp_path / "gt.txt")
    assert pts.shape == (10, 3) and labels.tolist() == [0] * 5 + [1] * 5
    np.savetxt(tmp_path / "bad.txt", np.c_[np.ones((10, 3)), np.full(10, 2)])
    with pytest.raises(DataError, match="bad.txt: the label column must be 0 or 1"):
        read_labelled_txt(tmp_path / "bad.txt")


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("a.ply", b"plx\nformat ascii 1.0\n", "not a PLY file"),
        ("b.ply", b"ply\nformat binary_little_endian 1.0\nelement vertex 100\nproperty float x\n"
                  b"property float y\nproperty float z\nend_header\n" + b"\0" * 12, "truncated PLY body"),
        ("c.ply", b"ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty float y\nend_header\n1 2\n3 4\n",
         "need x, y and z"),
        ("d.pcd", b"hello\n", "no DATA line"),
        ("e.pcd", b"FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nPOINTS 10\nDATA binary_compressed\n", "binary_compressed"),
        ("f.pcd", b"FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nPOINTS 10\nDATA binary\n" + b"\0" * 8, "truncated PCD body"),
        ("g.txt", b"", "holds no points"),
        ("h.txt", b"1 2\n3 4\n", "at least 3 columns"),
        ("i.obj", b"v 1 2 3\n", "unknown point cloud format"),
        ("j.npy", b"not numpy", "not a NumPy array file"),
    ],
)
def test_bad_files_name_themselves(tmp_path: Path, name: str, content: bytes, needle: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=needle) as info:
        read_cloud(path)
    assert name in str(info.value)


def test_bad_clouds() -> None:
    with pytest.raises(DataError, match="the cloud is empty"):
        PointCloud(points=np.zeros((0, 3)))
    nan = np.random.default_rng(0).normal(size=(20, 3))
    nan[7, 1] = np.nan
    with pytest.raises(DataError, match="1 of 20 points have NaN/inf coordinates \\(first at row 7\\)"):
        as_cloud(nan)
    with pytest.raises(DataError, match="only 3 points; at least 8"):
        as_cloud(np.ones((3, 3)))
    with pytest.raises(DataError, match="expected points of shape \\(N, 3\\)"):
        as_cloud(np.ones((10, 2)))
    with pytest.raises(DataError, match="expected a PointCloud or an \\(N, 3\\) array"):
        as_cloud("cloud.ply")
    with pytest.raises(DataError, match="no such point cloud file"):
        read_cloud("/nonexistent/cloud.ply")


def _tetra_ply(path: Path, fmt: str, faces_first: bool = False) -> tuple[np.ndarray, np.ndarray]:
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)
    f = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]], np.int32)
    vert_h = "element vertex 4\nproperty float x\nproperty float y\nproperty float z\n"
    face_h = "element face 4\nproperty list uchar int vertex_indices\n"
    head = f"ply\nformat {fmt} 1.0\ncomment tetra\n" + (face_h + vert_h if faces_first else vert_h + face_h) + "end_header\n"
    if fmt == "ascii":
        vb = "".join(" ".join(map(str, r)) + "\n" for r in v.tolist()).encode()
        fb = "".join("3 " + " ".join(map(str, r)) + "\n" for r in f.tolist()).encode()
    else:
        o = "<" if fmt == "binary_little_endian" else ">"
        vb = v.astype(o + "f4").tobytes()
        rec = np.zeros(4, dtype=[("n", "u1"), ("i", o + "i4", (3,))])
        rec["n"], rec["i"] = 3, f
        fb = rec.tobytes()
    path.write_bytes(head.encode() + (fb + vb if faces_first else vb + fb))
    return v, f


@pytest.mark.parametrize("fmt", ["ascii", "binary_little_endian", "binary_big_endian"])
@pytest.mark.parametrize("faces_first", [False, True])
def test_ply_mesh_every_encoding(tmp_path: Path, fmt: str, faces_first: bool) -> None:
    from omniad_pointcloud.io import read_ply_mesh

    v, f = _tetra_ply(tmp_path / "t.ply", fmt, faces_first)
    verts, faces = read_ply_mesh(tmp_path / "t.ply")
    np.testing.assert_array_equal(verts, v)
    np.testing.assert_array_equal(faces, f)
    with pytest.raises(DataError, match="only 4 points"):  # as a cloud, 4 vertices are too few
        read_cloud(tmp_path / "t.ply")


def test_mesh_without_faces_and_polygons(tmp_path: Path, cloud: PointCloud) -> None:
    from omniad_pointcloud.io import read_ply_mesh

    with pytest.raises(DataError, match="no face element"):
        read_ply_mesh(write_ply(tmp_path / "c.ply", cloud))
    path = tmp_path / "q.ply"
    path.write_bytes(b"ply\nformat ascii 1.0\nelement vertex 8\nproperty float x\nproperty float y\nproperty float z\n"
                     b"element face 2\nproperty list uchar int vertex_indices\nend_header\n"
                     + b"".join(b"%d %d %d\n" % (i & 1, i >> 1 & 1, i >> 2) for i in range(8))
                     + b"4 0 1 3 2\n3 4 5 6\n")
    with pytest.raises(DataError, match="mixed length"):
        read_ply_mesh(path)


def test_big_endian_vertices_with_colours(tmp_path: Path, cloud: PointCloud) -> None:
    head = (b"ply\nformat binary_big_endian 1.0\nelement vertex 50\nproperty double x\nproperty double y\n"
            b"property double z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n")
    rec = np.zeros(50, dtype=[("x", ">f8"), ("y", ">f8"), ("z", ">f8"), ("r", "u1"), ("g", "u1"), ("b", "u1")])
    rec["x"], rec["y"], rec["z"] = cloud.points.T
    rec["r"], rec["g"], rec["b"] = cloud.colors.T
    (tmp_path / "be.ply").write_bytes(head + rec.tobytes())
    back = read_cloud(tmp_path / "be.ply")
    np.testing.assert_array_equal(back.points, cloud.points)
    np.testing.assert_array_equal(back.colors, cloud.colors)
    assert back.normals is None


def test_pcd_with_extra_fields_and_normals(tmp_path: Path, cloud: PointCloud) -> None:
    head = ("VERSION 0.7\nFIELDS x y z normal_x normal_y normal_z rgb label\nSIZE 4 4 4 4 4 4 4 2\n"
            "TYPE F F F F F F U I\nCOUNT 1 1 1 1 1 1 1 1\nWIDTH 50\nHEIGHT 1\nPOINTS 50\nDATA {}\n")
    table = np.c_[cloud.points, cloud.normals, np.zeros(50), np.arange(50)]
    (tmp_path / "a.pcd").write_text(head.format("ascii") + "\n".join(" ".join(f"{v:.9g}" for v in r) for r in table))
    rec = np.zeros(50, dtype=[("p", "<f4", (6,)), ("rgb", "<u4"), ("label", "<i2")])
    rec["p"], rec["label"] = table[:, :6], np.arange(50)
    (tmp_path / "b.pcd").write_bytes(head.format("binary").encode() + rec.tobytes())
    for name in ("a.pcd", "b.pcd"):
        back = read_cloud(tmp_path / name)
        np.testing.assert_allclose(back.points, cloud.points, atol=1e-6)
        np.testing.assert_allclose(back.normals, cloud.normals, atol=1e-6)
    (tmp_path / "c.pcd").write_text(head.replace("SIZE 4 4 4 4 4 4 4 2", "SIZE 4 4 4").format("binary"))
    with pytest.raises(DataError, match="c.pcd: PCD header has 8 FIELDS but 3 SIZE"):
        read_cloud(tmp_path / "c.pcd")
