"""``omniad.npyfiles``: a user's .npy/.npz that is damaged or edited is one DataError naming it, never half read.

numpy alone loads the first rows of an .npy whose header shape was edited down, and raises its
libraries' errors (tokenize.TokenError, zlib.error, EOFError, BadZipFile) naming no file.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

import omniad
from omniad.errors import DataError
from omniad.npyfiles import load_npy, load_npz

ROWS = np.arange(64 * 3, dtype=np.float64).reshape(64, 3)


def _npy(path: Path, arr: np.ndarray = ROWS) -> bytes:
    np.save(path, arr)
    return path.read_bytes()


def _edited(tmp_path: Path, name: str, old: bytes, new: bytes) -> Path:
    raw = _npy(tmp_path / "ok.npy")
    assert old in raw
    (tmp_path / name).write_bytes(raw.replace(old, new, 1))
    return tmp_path / name


def test_a_valid_npy_and_npz_load_as_numpy_does(tmp_path: Path) -> None:
    _npy(tmp_path / "a.npy")
    np.testing.assert_array_equal(load_npy(tmp_path / "a.npy", what="rows"), ROWS)
    np.savez_compressed(tmp_path / "b.npz", x=ROWS, y=np.ones(3, np.int8))
    arrays = load_npz(tmp_path / "b.npz", what="rows")
    assert sorted(arrays) == ["x", "y"] and len(arrays) == 2
    np.testing.assert_array_equal(arrays["x"], ROWS)
    assert arrays.array("y", kinds="i").dtype == np.int8
    with pytest.raises(KeyError):
        arrays["z"]
    empty = tmp_path / "e.npy"
    np.save(empty, np.zeros((0, 3)))
    assert load_npy(empty, what="rows").shape == (0, 3)


def test_header_shape_edited_down_is_refused_not_half_loaded(tmp_path: Path) -> None:
    path = _edited(tmp_path, "less.npy", b"(64, 3)", b"(32, 3)")
    assert np.load(path).shape == (32, 3)  # what numpy alone does: half the rows, no word
    with pytest.raises(
        DataError,
        match=r"less\.npy: the header declares shape \(32, 3\) of float64 \(768 bytes\) but 1536 bytes "
        r"follow it: .*save the whole rows again with np\.save",
    ):
        load_npy(path, what="rows")


def test_header_shape_edited_up_is_a_truncated_file(tmp_path: Path) -> None:
    path = _edited(tmp_path, "more.npy", b"(64, 3)", b"(99, 3)")
    with pytest.raises(
        DataError,
        match=r"more\.npy: not a NumPy array file \(EOFError: truncated: .*\(99, 3\).* only 1536 bytes",
    ):
        load_npy(path, what="rows")
    cut = tmp_path / "cut.npy"
    cut.write_bytes((tmp_path / "ok.npy").read_bytes()[:300])
    with pytest.raises(DataError, match=r"cut\.npy: not a NumPy array file \(EOFError: truncated.*np\.save"):
        load_npy(cut, what="rows")
    (tmp_path / "head.npy").write_bytes(b"\x93NUMPY\x01\x00")
    with pytest.raises(DataError, match=r"head\.npy: not a NumPy array file \("):
        load_npy(tmp_path / "head.npy", what="rows")


def test_garbled_header_names_the_file_and_the_tokenizer(tmp_path: Path) -> None:
    path = _edited(tmp_path, "brace.npy", b"}", b" ")
    with pytest.raises(Exception) as raw:  # the point: numpy's own error names nothing
        np.load(path)
    assert not isinstance(raw.value, DataError) and "brace" not in str(raw.value)
    with pytest.raises(
        DataError, match=r"brace\.npy: not a NumPy array file \(tokenize\.TokenError: .*np\.save"
    ):
        load_npy(path, what="rows")
    path = _edited(tmp_path, "version.npy", b"\x93NUMPY\x01\x00", b"\x93NUMPY\x07\x00")
    with pytest.raises(
        DataError,
        match=r"version\.npy: not a NumPy array file \(ValueError: unknown .npy format "
        r"version 7\.0",
    ):
        load_npy(path, what="rows")
    (tmp_path / "text.npy").write_text("1,2,3\n4,5,6\n")
    with pytest.raises(DataError, match=r"text\.npy: not a NumPy array file \(ValueError: the magic string"):
        load_npy(tmp_path / "text.npy", what="rows")


def test_object_arrays_are_refused_without_pickle(tmp_path: Path) -> None:
    ragged = np.empty(2, dtype=object)
    ragged[0], ragged[1] = np.zeros(3), np.zeros(4)
    np.save(tmp_path / "o.npy", ragged, allow_pickle=True)
    with pytest.raises(
        DataError, match=r"o\.npy: holds an object array \(shape \(2,\).*need pickle.*np\.save\("
    ):
        load_npy(tmp_path / "o.npy", what="rows")
    np.savez(tmp_path / "o.npz", rows=ragged)
    with pytest.raises(DataError, match=r"o\.npz: array 'rows' is an object array .*np\.savez\(") as info:
        load_npz(tmp_path / "o.npz", what="rows")["rows"]
    assert "allow_pickle" not in str(info.value)


def test_damaged_npz_names_the_file_and_the_array(tmp_path: Path) -> None:
    raw = _npy(tmp_path / "ok.npy")
    with zipfile.ZipFile(tmp_path / "z.npz", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("rows.npy", raw)
    data = bytearray((tmp_path / "z.npz").read_bytes())
    start = data.index(b"rows.npy") + len(b"rows.npy")
    data[start + 10 : start + 40] = b"\xff" * 30  # inside the deflate stream
    (tmp_path / "z.npz").write_bytes(bytes(data))
    arrays = load_npz(tmp_path / "z.npz", what="rows")  # the table of contents is intact
    with pytest.raises(DataError, match=r"z\.npz: array 'rows' is not readable \(zlib\.error: .*np\.savez"):
        arrays["rows"]
    (tmp_path / "cut.npz").write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(DataError, match=r"cut\.npz: not a NumPy array file \(\.npz: zipfile\.BadZipFile"):
        load_npz(tmp_path / "cut.npz", what="rows")
    with zipfile.ZipFile(tmp_path / "half.npz", "w") as zf:
        zf.writestr("rows.npy", raw.replace(b"(64, 3)", b"(32, 3)"))
    with pytest.raises(DataError, match=r"half\.npz: array 'rows': the header declares shape \(32, 3\)"):
        load_npz(tmp_path / "half.npz", what="rows")["rows"]


def test_wrong_kind_of_file_and_missing_files(tmp_path: Path) -> None:
    np.savez(tmp_path / "a.npz", x=ROWS)
    (tmp_path / "zip.npy").write_bytes((tmp_path / "a.npz").read_bytes())
    with pytest.raises(DataError, match=r"zip\.npy: holds a zip archive \(an \.npz\), not one \.npy array"):
        load_npy(tmp_path / "zip.npy", what="rows")
    np.save(tmp_path / "s.npy", np.array(["a", "b"]))
    with pytest.raises(
        DataError, match=r"s\.npy: holds <U1 values .*the labels must be numbers \(integer or float\)"
    ):
        load_npy(tmp_path / "s.npy", what="labels", kinds="if")
    with pytest.raises(DataError, match=r"gone\.npy: no such file \(it should hold the rows\)"):
        load_npy(tmp_path / "gone.npy", what="rows")
    with pytest.raises(DataError, match=r"ds: .*: not a regular file"):
        load_npz(tmp_path, what="rows", where="ds")


def test_core_csv_table_reads_npy_through_the_checks(tmp_path: Path) -> None:
    """core.csv_table used np.load catching ValueError only: a garbled header raised TokenError, an
    edited shape loaded part of the rows."""
    path = _edited(tmp_path, "half.npy", b"(64, 3)", b"(32, 3)")
    with pytest.raises(DataError, match=r"core\.csv_table: .*half\.npy: the header declares shape \(32, 3\)"):
        list(omniad.create_dataset("core.csv_table", {"path": str(path), "split": "all"}).iter_subsets())
    path = _edited(tmp_path, "brace.npy", b"}", b" ")
    with pytest.raises(DataError, match=r"brace\.npy: not a NumPy array file \(tokenize\.TokenError"):
        list(omniad.create_dataset("core.csv_table", {"path": str(path), "split": "all"}).iter_subsets())
    (tmp_path / "cut.npy").write_bytes((tmp_path / "ok.npy").read_bytes()[:200])
    with pytest.raises(DataError, match=r"cut\.npy: not a NumPy array file \(EOFError"):
        list(
            omniad.create_dataset(
                "core.csv_table", {"path": str(tmp_path / "cut.npy"), "split": "all"}
            ).iter_subsets()
        )
    (subset,) = omniad.create_dataset(
        "core.csv_table", {"path": str(tmp_path / "ok.npy"), "split": "all"}
    ).iter_subsets()
    assert len(subset.test.samples) == 64
