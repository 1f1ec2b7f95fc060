"""Log datasets on bad input: every repair is counted in Subset.meta, every refusal is one clear error."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from omniad.errors import ConfigError, DataError
from omniad.plugins import get_registry
from omniad_logs.datasets.base import split_indices, window_groups

BGL_LINE = "{label} {ts} 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO {msg}"


def create(dataset_id: str, **params: object):
    return get_registry().get("dataset", dataset_id).create(params)


def bgl_lines(n: int = 60, alerts: tuple[int, ...] = (45, 50)) -> list[str]:
    return [BGL_LINE.format(label="KERNDTLB" if i in alerts else "-", ts=1117838570 + 10 * i,
                            msg=f"data TLB error interrupt {i}" if i in alerts else f"instruction cache parity error corrected {i % 3}")
            for i in range(n)]


def write(path: Path, lines: list[str] | bytes) -> Path:
    path.write_bytes(lines if isinstance(lines, bytes) else ("\n".join(lines) + "\n").encode())
    return path


def load_bgl(path: Path, **params: object):
    return create("logs.bgl", path=str(path), window_size=10, **params).load()[0]


@pytest.mark.parametrize("dataset_id", ["logs.bgl", "logs.loghub", "logs.hdfs", "logs.table"])
def test_empty_file_is_refused(tmp_path: Path, dataset_id: str) -> None:
    path = write(tmp_path / ("BGL_empty.csv" if dataset_id == "logs.table" else "BGL_empty.log"), b"")
    extra = {"labels": str(write(tmp_path / "l.csv", ["BlockId,Label"]))} if dataset_id == "logs.hdfs" else {}
    with pytest.raises(DataError, match="empty"):
        create(dataset_id, path=str(path), **extra).load()
    write(path, b"\n  \n\r\n")
    with pytest.raises(DataError, match="only blank lines"):
        create(dataset_id, path=str(path), **extra).load()


@pytest.mark.parametrize("dataset_id", ["logs.bgl", "logs.loghub", "logs.hdfs", "logs.table"])
def test_missing_path_is_a_config_error_naming_param_and_path(tmp_path: Path, dataset_id: str) -> None:
    missing = tmp_path / "nowhere" / "x.log"
    with pytest.raises(ConfigError, match=r"path='.*nowhere/x\.log' does not exist"):
        create(dataset_id, path=str(missing)).load()


def test_binary_garbage_is_refused(tmp_path: Path) -> None:
    garbage = np.random.default_rng(0).integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    with pytest.raises(DataError, match="does not look like a text log"):
        load_bgl(write(tmp_path / "BGL_bin.log", garbage))
    utf16 = ("\n".join(bgl_lines()) + "\n").encode("utf-16-le")
    with pytest.raises(DataError, match="set 'encoding'"):
        load_bgl(write(tmp_path / "BGL_u16.log", utf16))
    subset = load_bgl(write(tmp_path / "BGL_u16b.log", utf16), encoding="utf-16-le")
    assert subset.meta["counts"]["lines_with_replacements"] == 0 and subset.meta["n_anomalous_lines"] == 2


def test_undecodable_bytes_are_replaced_and_counted(tmp_path: Path) -> None:
    lines = bgl_lines()
    lines[3] = lines[3].replace("corrected", "corrig\u00e9")  # Latin-1 é is not UTF-8
    raw = ("\n".join(lines) + "\n").encode("latin-1")
    raw = raw.replace(b"parity error corrected 1", b"parity\x00\x00 error corrected 1", 1)
    with pytest.warns(UserWarning, match="lines_with_replacements=1"):
        subset = load_bgl(write(tmp_path / "BGL_latin.log", raw))
    counts = subset.meta["counts"]
    assert counts["lines_with_replacements"] == 1 and counts["replacement_chars"] == 1
    assert counts["nul_chars_removed"] == 2 and counts["lines_read"] == 60
    texts = [t for s in [*subset.train.samples, *subset.test.samples] for t in s.lines]
    assert any("corrig\ufffd" in t for t in texts) and not any("\x00" in t for t in texts)
    latin = load_bgl(tmp_path / "BGL_latin.log", encoding="latin-1")
    assert latin.meta["counts"]["lines_with_replacements"] == 0
    assert any("corrig\u00e9" in t for s in latin.test.samples for t in s.lines) or \
        any("corrig\u00e9" in t for s in latin.train.samples for t in s.lines)


def test_unknown_encoding_name_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown encoding 'utf-9'"):
        create("logs.bgl", path=str(tmp_path), encoding="utf-9")


def test_lines_not_matching_the_header_are_kept_and_counted(tmp_path: Path) -> None:
    lines = bgl_lines()
    lines.insert(47, "KERNDTLB stack trace continues")
    lines.insert(10, "this line has no header at all")
    with pytest.warns(UserWarning, match="lines_unmatched_header=2.*lines_without_label=1"):
        subset = load_bgl(write(tmp_path / "BGL_mixed.log", lines))
    assert subset.meta["counts"]["lines_unmatched_header"] == 2 and subset.meta["counts"]["lines_read"] == 62
    everything = [t for s in [*subset.train.samples, *subset.test.samples] for t in s.lines]
    assert "this line has no header at all" in everything
    # a line without a header still takes its label from the first token, when that is a label
    assert subset.meta["n_anomalous_lines"] == 3 and subset.meta["counts"]["lines_without_label"] == 1


def test_a_ten_megabyte_line_is_truncated_and_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from omniad_logs.parsing import TemplateMiner

    lines = bgl_lines()
    lines[5] = lines[5] + " " + "x" * 10_000_000
    parse_batch = TemplateMiner.parse_batch
    seen: list[int] = []

    def spy(self: TemplateMiner, contents: list[str]) -> list:
        contents = list(contents)
        seen.extend(len(c) for c in contents)
        return parse_batch(self, contents)

    # what bounds the cost is that the parser never sees the long line (not a wall-clock limit,
    # which a busy machine would break): it gets at most max_line_chars of it
    monkeypatch.setattr(TemplateMiner, "parse_batch", spy)
    subset = load_bgl(write(tmp_path / "BGL_long.log", lines), max_line_chars=2000)
    assert seen and max(seen) <= 2000
    assert subset.meta["counts"]["lines_truncated"] == 1
    longest = max(len(t) for s in [*subset.train.samples, *subset.test.samples] for t in s.lines)
    assert longest <= 2000


def test_short_sessions_are_counted_or_dropped(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    rows = ["sid,message,label", "a,start job,0", "a,end job,0", "b,start job,0", "c,start job,0", "c,disk failed,1",
            "d,start job,0", "d,end job,0", ",orphan line,0"]
    write(path, rows)
    subset = create("logs.table", path=str(path), session_column="sid", split="random").load()[0]
    counts = subset.meta["counts"]
    assert counts["single_line_sessions"] == 1 and counts["sessions_dropped_short"] == 0
    assert counts["lines_without_session"] == 1 and subset.meta["n_sessions"] == 4
    strict = create("logs.table", path=str(path), session_column="sid", split="random", min_session_length=2).load()[0]
    assert strict.meta["counts"]["sessions_dropped_short"] == 1 and strict.meta["n_sessions"] == 3


def test_label_file_naming_unknown_sessions_is_counted_not_fatal(tmp_path: Path) -> None:
    log = write(tmp_path / "HDFS_x.log", [
        "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_1 terminating",
        "081109 203616 148 INFO dfs.DataNode$PacketResponder: Received block blk_1 of size 67108864",
        "081109 203617 149 INFO dfs.DataNode$PacketResponder: PacketResponder 0 for block blk_-2 terminating",
        "081109 203618 150 WARN dfs.DataNode: Exception while serving blk_3 to /10.0.0.1",
        "081109 203619 150 INFO dfs.DataNode: Starting thread to transfer block blk_4 to blk_5",
        "081109 203620 151 INFO dfs.FSNamesystem: heartbeat",
    ])
    labels = write(tmp_path / "anomaly_label.csv", ["BlockId,Label", "blk_1,Normal", "blk_-2,Normal", "blk_3,Anomaly",
                                                    "blk_4,Normal", "blk_77,Anomaly", "blk_78,Normal"])
    with pytest.warns(UserWarning, match="label_ids_unknown=2"):
        subset = create("logs.hdfs", path=str(log)).load()[0]
    counts = subset.meta["counts"]
    assert counts["label_ids_unknown"] == 2 and counts["sessions_without_label"] == 1  # blk_5
    assert counts["lines_without_session"] == 1 and counts["lines_in_several_sessions"] == 1
    assert subset.meta["n_sessions"] == 4 and subset.test.n_anomalous == 1
    write(labels, ["BlockId,Label", "blk_1,Normal", "blk_3,maybe"])
    with pytest.raises(DataError, match="line 3: label 'maybe'"):
        create("logs.hdfs", path=str(log)).load()


def test_table_bad_columns_and_labels(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", ["msg,label", "hello,0", "world,2"])
    with pytest.raises(DataError, match="no column 'message'.*'message_column'"):
        create("logs.table", path=str(path)).load()
    with pytest.raises(DataError, match="row 2: label '2'"):
        create("logs.table", path=str(path), message_column="msg").load()
    bad_json = write(tmp_path / "t.jsonl", ['{"message": "a", "label": 0}', "{not json"])
    with pytest.raises(DataError, match="line 2 is not JSON"):
        create("logs.table", path=str(bad_json)).load()


def test_table_jsonl_windows_by_time(tmp_path: Path) -> None:
    rows = [{"message": f"tick {i % 4} from host{i % 2}", "label": int(i == 17), "time": f"2024-01-01T00:{i:02d}:00"}
            for i in range(40)]
    path = write(tmp_path / "t.jsonl", [json.dumps(r) for r in rows])
    subset = create("logs.table", path=str(path), timestamp_column="time", window_unit="seconds",
                    window_size=600, train_fraction=0.5).load()[0]
    assert subset.meta["n_sessions"] == 4
    lengths = sorted(len(s) for s in [*subset.train.samples, *subset.test.samples])
    assert lengths == [10, 10, 10, 10] and subset.test.n_anomalous == 1


def test_time_windows_need_timestamps(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", ["message,label", *[f"m{i},0" for i in range(5)], "boom,1"])
    with pytest.raises(DataError, match="window_unit='lines'"):
        create("logs.table", path=str(path), window_unit="seconds", window_size=60).load()


def test_unknown_system_and_window_rules_are_config_errors(tmp_path: Path) -> None:
    log = write(tmp_path / "Mystery_2k.log", ["a b c"])
    with pytest.raises(ConfigError, match="no loghub header format for system 'Mystery'.*'log_format'"):
        create("logs.loghub", path=str(log)).load()
    with pytest.raises(ConfigError, match="needs window_step"):
        create("logs.bgl", path=str(log), window="sliding")
    with pytest.raises(ConfigError, match="whole number"):
        create("logs.bgl", path=str(log), window_size=2.5)
    with pytest.raises(ConfigError, match="skip lines"):
        create("logs.bgl", path=str(log), window="sliding", window_size=10, window_step=20)


def test_unlabelled_loghub_system_is_for_inspection(tmp_path: Path) -> None:
    log = write(tmp_path / "HDFS_tiny.log", [
        f"081109 2036{i:02d} 148 INFO dfs.DataNode: Received block blk_{i} of size {i * 7}" for i in range(30)])
    with pytest.warns(UserWarning, match="parsing and inspection only"):
        subset = create("logs.loghub", path=str(log), window_size=5).load()[0]
    assert subset.meta["labelled"] is False and subset.test.n_anomalous == 0 and subset.test.targets is None
    assert subset.meta["counts"]["lines_unmatched_header"] == 0


def test_window_groups_count_and_time() -> None:
    counts: dict[str, int] = {}
    kw = {"counts": counts, "where": "t"}
    nan = np.full(10, np.nan)
    fixed = window_groups("x", nan, window="fixed", unit="lines", size=4, step=None, **kw)
    assert [g.tolist() for _, g in fixed] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    sliding = window_groups("x", nan, window="sliding", unit="lines", size=4, step=3, **kw)
    assert [g.tolist() for _, g in sliding] == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    short = window_groups("x", nan[:3], window="sliding", unit="lines", size=4, step=2, **kw)
    assert [g.tolist() for _, g in short] == [[0, 1, 2]]
    ts = np.array([0.0, 1, np.nan, 2, 50, 51, 5, 120])  # a gap, a missing time, one line out of order
    timed = window_groups("x", ts, window="fixed", unit="seconds", size=10, step=None, **kw)
    assert [g.tolist() for _, g in timed] == [[0, 1, 2, 3, 6], [4, 5], [7]]
    assert counts["empty_windows_skipped"] == 10 and counts["lines_out_of_time_order"] == 1
    slid = window_groups("x", np.array([0.0, 5, 10, 15]), window="sliding", unit="seconds", size=10, step=5, **kw)
    assert [g.tolist() for _, g in slid] == [[0, 1], [1, 2], [2, 3], [3]]


def test_split_rules() -> None:
    counts: dict[str, int] = {}
    labels = np.array([0, 1, 0, 0, 0, 0, 1, 0], dtype=np.int8)
    train, test = split_indices(labels, 8, fraction=0.5, mode="chronological", seed=0, counts=counts, where="t")
    assert train.tolist() == [0, 2, 3] and test.tolist() == [1, 4, 5, 6, 7]
    assert counts["train_period_anomalies_to_test"] == 1
    a, _ = split_indices(labels, 8, fraction=0.5, mode="random", seed=3, counts=counts, where="t")
    b, rest = split_indices(labels, 8, fraction=0.5, mode="random", seed=3, counts=counts, where="t")
    assert a.tolist() == b.tolist() and len(a) == 3 and not labels[a].any() and set(rest) == set(range(8)) - set(a)
    with pytest.raises(DataError, match="no normal session"):
        split_indices(np.ones(4, dtype=np.int8), 4, fraction=0.5, mode="random", seed=0, counts=counts, where="t")


def test_no_warning_on_clean_input(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        subset = load_bgl(write(tmp_path / "BGL_ok.log", bgl_lines()))
    assert not any(v for k, v in subset.meta["counts"].items() if k in ("lines_unmatched_header", "lines_truncated"))


def test_a_deeplog_window_without_bound_is_refused_at_create() -> None:
    """``window=10**9`` (e.g. edited into a saved model) used to raise MemoryError at score."""
    from omniad.errors import ConfigError
    from omniad.plugins import get_registry

    with pytest.raises(ConfigError, match="window"):
        get_registry().get("detector", "logs.deeplog").create({"window": 10**9})
