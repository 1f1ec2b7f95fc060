"""Session label files (``logs.hdfs``'s ``anomaly_label.csv``) and the counts of what a loader leaves out.

A label file covering half of the blocks used to drop half of the sessions without a word,
contradicting rows passed silently (the last one won), and a file with a wrong header was
read with the wrong column and failed much later ("no normal session falls into the train
split"). Every such case is now a warning with a count in ``Subset.meta["counts"]`` or an
error naming the file.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from omniad.errors import DataError
from omniad.plugins import get_registry

N_BLOCKS = 40


def hdfs_log(path: Path, n_blocks: int = N_BLOCKS) -> Path:
    lines = []
    for b in range(n_blocks):
        lines += [
            f"081109 2036{b % 60:02d} 148 INFO dfs.DataNode$PacketResponder: Receiving block blk_{b} src /10.0.0.{b % 7}",
            f"081109 2036{b % 60:02d} 148 INFO dfs.DataNode$PacketResponder: Received block blk_{b} of size {1000 + b}",
            f"081109 2036{b % 60:02d} 149 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_{b} terminating",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def label_file(path: Path, rows: list[str], header: str = "BlockId,Label") -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def load(log: Path, labels: Path):
    return (
        get_registry().get("dataset", "logs.hdfs").create({"path": str(log), "labels": str(labels)}).load()[0]
    )


def label(b: int) -> str:
    return "Anomaly" if b % 5 == 0 else "Normal"


def test_sessions_the_label_file_does_not_name_are_counted_and_warned(tmp_path: Path) -> None:
    log = hdfs_log(tmp_path / "HDFS.log")
    half = label_file(tmp_path / "anomaly_label.csv", [f"blk_{b},{label(b)}" for b in range(N_BLOCKS // 2)])
    with pytest.warns(UserWarning, match=f"sessions_without_label={N_BLOCKS // 2}"):
        subset = load(log, half)
    assert subset.meta["counts"]["sessions_without_label"] == N_BLOCKS // 2
    assert subset.meta["n_sessions"] == N_BLOCKS // 2


def test_contradicting_labels_are_an_error_naming_the_file_and_ids(tmp_path: Path) -> None:
    log = hdfs_log(tmp_path / "HDFS.log")
    rows = [f"blk_{b},{label(b)}" for b in range(N_BLOCKS)]
    rows += [
        f"blk_{b},{'Normal' if label(b) == 'Anomaly' else 'Anomaly'}" for b in range(11)
    ]  # 11 listed twice
    labels = label_file(tmp_path / "anomaly_label.csv", rows)
    with pytest.raises(
        DataError,
        match=re.escape(str(labels)) + r".* 11 session id\(s\) both labels, e\.g\. blk_0 "
        r"\(lines 2 and 42\), blk_1 \(lines 3 and 43\)",
    ):
        load(log, labels)


def test_repeated_rows_with_the_same_label_are_counted(tmp_path: Path) -> None:
    log = hdfs_log(tmp_path / "HDFS.log")
    rows = [f"blk_{b},{label(b)}" for b in range(N_BLOCKS)] + [f"blk_{b},{label(b)}" for b in range(3)]
    with pytest.warns(UserWarning, match="label_rows_repeated=3"):
        subset = load(log, label_file(tmp_path / "anomaly_label.csv", rows))
    assert subset.meta["counts"]["label_rows_repeated"] == 3 and subset.meta["n_sessions"] == N_BLOCKS


@pytest.mark.parametrize("header", ["BlockId,Status", "blk_0,Normal", "BlockId", "Label"])
def test_a_wrong_header_names_the_file_the_header_and_the_expected_one(tmp_path: Path, header: str) -> None:
    log = hdfs_log(tmp_path / "HDFS.log")
    labels = label_file(
        tmp_path / "anomaly_label.csv", [f"blk_{b},{label(b)}" for b in range(1, N_BLOCKS)], header
    )
    expected = f"label file {labels} has the header '{header}', expected 'BlockId,Label'"
    with pytest.raises(DataError, match=re.escape(expected)):
        load(log, labels)


def test_a_header_naming_the_columns_in_the_wrong_order_is_blamed_not_the_row(tmp_path: Path) -> None:
    # "Label,BlockId" over "blk_0,Normal" rows: the row was blamed ("line 2: label 'blk_0' is not
    # Normal/Anomaly"), with neither the file's path nor the header that is the actual mistake
    log = hdfs_log(tmp_path / "HDFS.log")
    labels = label_file(
        tmp_path / "anomaly_label.csv", [f"blk_{b},{label(b)}" for b in range(N_BLOCKS)], "Label,BlockId"
    )
    expected = (
        f"label file {labels} line 2: label 'blk_0' (column 'Label') is not Normal/Anomaly (or 0/1) but "
        "column 'BlockId' holds 'Anomaly': the header 'Label,BlockId' names the columns in the wrong order"
    )
    with pytest.raises(DataError, match=re.escape(expected) + r".*'BlockId,Label'"):
        load(log, labels)
    bad = label_file(tmp_path / "bad.csv", ["blk_0,Normal", "blk_1,maybe"])
    with pytest.raises(
        DataError, match=re.escape(f"label file {bad} line 3: label 'maybe' (column 'Label') is not")
    ):
        load(log, bad)


def test_label_column_may_come_first_and_the_header_may_carry_a_bom(tmp_path: Path) -> None:
    log = hdfs_log(tmp_path / "HDFS.log")
    path = tmp_path / "anomaly_label.csv"
    path.write_text(
        "\ufeffLabel,BlockId\n" + "\n".join(f"{label(b)},blk_{b}" for b in range(N_BLOCKS)) + "\n",
        encoding="utf-8",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        subset = load(log, path)
    assert subset.meta["n_sessions"] == N_BLOCKS and subset.test.n_anomalous == N_BLOCKS // 5


def test_hdfs_sessions_counts_empty_sessions(tmp_path: Path) -> None:
    (tmp_path / "hdfs_train").write_text(
        "\n".join(["5 22 11 9", "", "5 5 22", "   ", *["5 22 9"] * 6]) + "\n"
    )
    (tmp_path / "hdfs_test_abnormal").write_text("5 22 11 9 26\n\n5 26\n")
    ds = get_registry().get("dataset", "logs.hdfs_sessions").create({"root": str(tmp_path)})
    with pytest.warns(UserWarning, match="empty_sessions_skipped=3"):
        subset = ds.load()[0]
    assert subset.meta["counts"] == {"empty_sessions_skipped": 3}
    assert subset.meta["n_train"] + subset.meta["n_test_normal"] == 8 and subset.meta["n_test_anomalous"] == 2
