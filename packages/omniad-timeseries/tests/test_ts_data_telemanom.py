"""timeseries.telemanom on a small SMAP/MSL layout written here (no real SMAP/MSL data on the test machines).

The layout and the CSV follow telemanom's release: ``labeled_anomalies.csv`` with the
published columns and quoting (P-2 listed twice, as in the real file), ``train/`` and
``test/`` .npy files whose column 0 is the telemetry value.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from omniad.errors import DataError
from omniad.plugins import get_registry
from omniad.testing import DatasetConformance

TEST_LENGTH, TRAIN_LENGTH, FEATURES = 200, 150, 3
ROWS = [  # chan_id, spacecraft, anomaly_sequences, class
    ("P-1", "SMAP", "[[20, 29], [100, 104]]", "[contextual, point]"),
    ("P-2", "SMAP", "[[50, 60]]", "[point]"),
    ("M-6", "MSL", "[[150, 199]]", "[point]"),  # runs to the last index, as E-3 does in the real file
    ("P-2", "SMAP", "[[55, 70]]", "[point]"),  # the real CSV repeats P-2 too
]


def telemetry(seed: int, length: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    value = np.sin(np.arange(length) / 8.0) + rng.normal(0, 0.05, length)
    commands = (rng.random((length, FEATURES - 1)) < 0.05).astype(np.float64)  # sparse one-hot commands
    return np.column_stack([value, commands])


def write_layout(
    root: Path, rows: list[tuple[str, str, str, str]] = ROWS, num_values: int = TEST_LENGTH
) -> Path:
    (root / "train").mkdir(parents=True, exist_ok=True)
    (root / "test").mkdir(parents=True, exist_ok=True)
    for i, chan in enumerate(dict.fromkeys(r[0] for r in rows)):
        np.save(root / "train" / f"{chan}.npy", telemetry(i, TRAIN_LENGTH))
        np.save(root / "test" / f"{chan}.npy", telemetry(100 + i, TEST_LENGTH))
    frame = pd.DataFrame(rows, columns=["chan_id", "spacecraft", "anomaly_sequences", "class"])
    frame["num_values"] = num_values
    frame.to_csv(root / "labeled_anomalies.csv", index=False)
    return root


def load(root: Path, **params: Any) -> list:
    return list(
        get_registry().get("dataset", "timeseries.telemanom").create({"path": str(root), **params}).subsets()
    )


def telemanom_indices(sequences: list[list[int]]) -> set[int]:
    """What telemanom's Detector.evaluate_sequences counts as true: range(start, end + 1) per sequence."""
    return {i for start, end in sequences for i in range(start, end + 1)}


def test_labels_are_telemanoms_inclusive_ranges(tmp_path: Path) -> None:
    subsets = {s.name: s for s in load(write_layout(tmp_path))}
    assert list(subsets) == ["P-1", "P-2", "M-6"]  # CSV order, the repeated P-2 once
    for name, sequences in [
        ("P-1", [[20, 29], [100, 104]]),
        ("M-6", [[150, 199]]),
        ("P-2", [[50, 60], [55, 70]]),
    ]:
        labels = subsets[name].test.targets[0]
        assert set(np.flatnonzero(labels)) == telemanom_indices(sequences), name
        assert subsets[name].test.labels.tolist() == [1]
    p1 = subsets["P-1"]
    assert p1.test.targets[0][[19, 20, 29, 30]].tolist() == [0, 1, 1, 0]
    assert p1.meta["anomaly_classes"] == ["contextual", "point"] and p1.meta["spacecraft"] == "SMAP"
    assert subsets["M-6"].test.targets[0][-1] == 1


def test_splits_are_the_npy_files_and_features_select_columns(tmp_path: Path) -> None:
    root = write_layout(tmp_path)
    (p1,) = load(root, channels=["P-1"])
    np.testing.assert_array_equal(p1.test.samples[0], np.load(root / "test" / "P-1.npy"))
    np.testing.assert_array_equal(p1.train.samples[0], np.load(root / "train" / "P-1.npy"))
    assert p1.train.labels is None and p1.meta["n_channels"] == FEATURES
    (uni,) = load(root, channels=["P-1"], features="telemetry")
    np.testing.assert_array_equal(uni.test.samples[0], np.load(root / "test" / "P-1.npy")[:, 0])
    assert uni.train.samples[0].shape == (TRAIN_LENGTH,)


def test_repeated_rows_are_merged_and_counted(tmp_path: Path) -> None:
    subsets = {s.name: s for s in load(write_layout(tmp_path))}
    assert subsets["P-2"].meta["counts"] == {"label_rows_merged": 1}
    assert subsets["P-1"].meta["counts"] == {"label_rows_merged": 0}
    assert subsets["P-2"].meta["anomaly_sequences"] == [[50, 60], [55, 70]]


def test_spacecraft_and_channel_selection(tmp_path: Path) -> None:
    root = write_layout(tmp_path)
    assert [s.name for s in load(root, spacecraft=["MSL"])] == ["M-6"]
    assert [s.name for s in load(root, channels=["M-6", "P-1"])] == ["M-6", "P-1"]
    with pytest.raises(DataError, match=r"unknown channels \['X-9'\].*available: \['M-6', 'P-1', 'P-2'\]"):
        load(root, channels=["X-9"])
    with pytest.raises(DataError, match=r"unknown channels \['M-6'\]"):
        load(root, spacecraft=["SMAP"], channels=["M-6"])
    with pytest.raises(DataError, match="no rows for spacecraft"):
        load(root, spacecraft=["Cassini"])


BAD_ROWS = [  # (what is wrong with P-1's row, its anomaly_sequences, its class, the message)
    (
        "range beyond the series",
        "[[20, 200]]",
        "[point]",
        r"\[20, 200\] reaches beyond the series .*0\.\.199",
    ),
    ("end before start", "[[30, 20]]", "[point]", r"\[30, 20\] is not 0 <= start <= end"),
    ("a pair of one", "[[20, 29], [100]]", "[point, point]", "not a list of \\[start, end\\] integer pairs"),
    ("not a list", "20-29", "[point]", "not a list of \\[start, end\\] integer pairs"),
    ("floats", "[[20.5, 29]]", "[point]", "integer pairs"),
    ("unbalanced", "[[20, 29]", "[point]", "integer pairs"),
    ("classes do not match ranges", "[[20, 29]]", "[point, point]", "2 kinds for 1 anomaly ranges"),
    ("class not a list", "[[20, 29]]", "point", "not a bracketed list"),
]


@pytest.mark.parametrize(
    ("anomaly_sequences", "classes", "message"), [b[1:] for b in BAD_ROWS], ids=[b[0] for b in BAD_ROWS]
)
def test_a_bad_row_is_named_by_file_and_line(
    tmp_path: Path, anomaly_sequences: str, classes: str, message: str
) -> None:
    rows = [("P-1", "SMAP", anomaly_sequences, classes), *ROWS[1:]]
    with pytest.raises(DataError, match=rf"labeled_anomalies\.csv line 2 \(chan_id 'P-1'\): .*{message}"):
        load(write_layout(tmp_path, rows))


def test_file_level_problems(tmp_path: Path) -> None:
    root = write_layout(tmp_path / "a")
    (root / "test" / "P-2.npy").unlink()  # a labelled channel without its data
    with pytest.raises(DataError, match=r"P-2: missing file .*test/P-2\.npy"):
        load(root)
    root = write_layout(tmp_path / "b", num_values=TEST_LENGTH + 5)
    with pytest.raises(
        DataError, match="P-1: test/P-1.npy has 200 rows but labeled_anomalies.csv line 2 says num_values 205"
    ):
        load(root)
    root = write_layout(tmp_path / "c")
    pd.read_csv(root / "labeled_anomalies.csv").drop(columns="num_values").to_csv(
        root / "labeled_anomalies.csv", index=False
    )
    with pytest.raises(DataError, match=r"labeled_anomalies\.csv has no column\(s\) \['num_values'\]"):
        load(root)
    root = write_layout(tmp_path / "d", [*ROWS, ("P-1", "MSL", "[[1, 2]]", "[point]")])
    with pytest.raises(DataError, match="line 6 .*repeats line 2 with another spacecraft"):
        load(root)
    root = write_layout(tmp_path / "e")
    np.save(root / "test" / "P-1.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match=r"P-1: .*test/P-1\.npy: holds an object array .*numeric"):
        load(root)
    root = write_layout(tmp_path / "f")
    np.save(root / "train" / "P-1.npy", telemetry(0, TRAIN_LENGTH)[:, :2])
    with pytest.raises(DataError, match="P-1: train has 2 columns, test 3"):
        load(root)
    shutil.rmtree(root)
    with pytest.raises(DataError, match="no labeled_anomalies.csv in"):
        load(root)


def test_unlabelled_test_files_are_skipped_with_a_warning(tmp_path: Path) -> None:
    root = write_layout(tmp_path)
    np.save(root / "test" / "Z-1.npy", telemetry(9, TEST_LENGTH))
    with pytest.warns(UserWarning, match=r"1 test file\(s\) have no row in labeled_anomalies.csv .*'Z-1'"):
        assert len(load(root)) == 3


def test_missing_values_follow_the_missing_policy(tmp_path: Path) -> None:
    root = write_layout(tmp_path)
    test = np.load(root / "test" / "P-1.npy")
    test[40, 0] = np.nan
    np.save(root / "test" / "P-1.npy", test)
    with pytest.raises(DataError, match=r"P-1 \(test\): 1 rows have missing values"):
        load(root, channels=["P-1"])
    (filled,) = load(root, channels=["P-1"], missing="interpolate")
    assert np.isfinite(filled.test.samples[0]).all()


class TestTelemanomConformance(DatasetConformance):
    dataset_id = "timeseries.telemanom"
    _root: ClassVar[Path | None] = None

    @property
    def params(self) -> dict[str, Any]:  # type: ignore[override]
        if TestTelemanomConformance._root is None:
            import atexit
            import tempfile

            root = Path(tempfile.mkdtemp(prefix="omniad_telemanom_"))
            atexit.register(shutil.rmtree, root, ignore_errors=True)
            TestTelemanomConformance._root = write_layout(root)
        return {"path": str(TestTelemanomConformance._root)}


def test_damaged_or_edited_npy_files_are_named_not_loaded(tmp_path: Path) -> None:
    """numpy alone loads the first 75 rows of an .npy whose shape was edited to (75, 3), and its header
    tokenizer raises its own TokenError on a garbled header."""
    root = write_layout(tmp_path)
    train = root / "train" / "P-1.npy"
    raw = train.read_bytes()
    train.write_bytes(
        raw.replace(f"({TRAIN_LENGTH}, {FEATURES})".encode(), f"( {TRAIN_LENGTH // 2}, {FEATURES})".encode())
    )
    with pytest.raises(
        DataError, match=r"P-1\.npy: the header declares shape \(75, 3\) .*1800 bytes\) but 3600 bytes"
    ):
        load(root)
    train.write_bytes(raw.replace(b"}", b" ", 1))
    with pytest.raises(
        DataError, match=r"P-1: .*train/P-1\.npy: not a NumPy array file \(tokenize\.TokenError.*np\.save"
    ):
        load(root)
    np.save(train, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match=r"P-1\.npy: holds an object array .*np\.save"):
        load(root)
