"""The followers behind ``omniad watch``: exact read positions, tail -F behaviour, bounded lines.

These run in-process on small files, with no timing: each test writes, then polls.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest

from omniad.errors import ConfigError, DataError
from omniad.watch import FileFollower, FolderFollower, StdinFollower, open_follower
from omniad.watch.checkpoint import load, model_fingerprint, save
from omniad.watch.loop import parse_until


def _texts(lines: list) -> list[str]:
    return [ln.text for ln in lines]


def _drain(f, limit: int = 10_000) -> list[str]:
    out: list[str] = []
    for _ in range(100):
        got = f.poll(limit)
        if not got:
            return out
        out += _texts(got)
    return out


def _write(path: Path, lines: list[str], mode: str = "w") -> None:
    with open(path, mode, encoding="utf-8") as fh:
        fh.write("".join(f"{ln}\n" for ln in lines))


def test_poll_hands_out_at_most_the_limit_and_the_position_resumes_exactly(tmp_path: Path) -> None:
    lines = [f"line {i} " + "x" * (i % 7) for i in range(3000)]  # several 64 KiB chunks
    log = tmp_path / "a.log"
    _write(log, lines)
    f = FileFollower(log, start="begin")
    first = f.poll(10)
    assert _texts(first) == lines[:10] and [ln.number for ln in first] == list(range(1, 11))
    pos = f.position()
    assert pos is not None and pos["offset"] == sum(len(ln) + 1 for ln in lines[:10]) and pos["lineno"] == 10
    f.close()
    again = FileFollower(log, start="begin")
    again.restore(pos)
    rest = _drain(again, limit=777)
    assert rest == lines[10:]
    assert again.poll(5) == []


def test_a_partial_last_line_waits_for_its_end(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("one\ntw")
    f = FileFollower(log, start="begin")
    assert _texts(f.poll()) == ["one"]
    assert f.poll() == []
    with open(log, "a") as fh:
        fh.write("o\nthree\n")
    assert _texts(f.poll()) == ["two", "three"]
    with open(log, "a") as fh:
        fh.write("fo")
    assert f.poll() == []
    f.close()
    assert f.counts["unfinished_last_line"] == 1


def test_start_at_end_reads_only_new_lines(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    _write(log, ["old 1", "old 2"])
    f = FileFollower(log, start="end")
    assert f.poll() == []
    _write(log, ["new 1"], mode="a")
    assert _texts(f.poll()) == ["new 1"]


def test_binary_lines_are_dropped_and_long_lines_cut_both_counted(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    with open(log, "wb") as fh:
        fh.write(b"good 1\n\x00\x01\x02binary\n" + b"y" * 5000 + b"\ngood 2\n")
    f = FileFollower(log, start="begin", max_line_bytes=1000)
    got = f.poll()
    assert _texts(got) == ["good 1", "y" * 1000, "good 2"]
    assert [ln.number for ln in got] == [1, 3, 4]  # numbers are the file's, the dropped line included
    assert f.counts["binary_lines"] == 1 and f.counts["long_lines_cut"] == 1
    assert f.position()["offset"] == log.stat().st_size


def test_a_cut_line_resumes_after_its_skipped_tail(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    with open(log, "wb") as fh:
        fh.write(b"z" * 200_000 + b"\nafter\n")
    f = FileFollower(log, start="begin", max_line_bytes=1000)
    assert _texts(f.poll(1)) == ["z" * 1000]
    pos = f.position()
    g = FileFollower(log, start="begin", max_line_bytes=1000)
    g.restore(pos)
    assert _drain(g) == ["after"]


def test_rotation_reads_the_old_file_to_its_end_then_the_new_one(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    _write(log, ["a1", "a2"])
    f = FileFollower(log, start="begin")
    assert _texts(f.poll()) == ["a1", "a2"]
    with open(log, "a") as fh:
        fh.write("a3\na4-no-end")
    os.rename(log, tmp_path / "app.log.1")
    _write(log, ["b1", "b2"])
    assert _drain(f) == ["a3", "a4-no-end", "b1", "b2"]
    assert f.counts["rotations"] == 1


def test_truncation_in_place_starts_again_from_the_top(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    _write(log, [f"long line number {i}" for i in range(50)])
    f = FileFollower(log, start="begin")
    assert len(_drain(f)) == 50
    with open(log, "w") as fh:  # copytruncate, then the writer goes on
        fh.write("c1\nc2\n")
    assert _drain(f) == ["c1", "c2"]
    assert f.counts["truncations"] == 1


def test_a_file_that_does_not_exist_yet_is_waited_for(tmp_path: Path) -> None:
    log = tmp_path / "later.log"
    f = FileFollower(log, start="end")
    assert f.poll() == [] and f.counts["file_missing"] == 1
    _write(log, ["first"])
    assert _texts(f.poll()) == ["first"]  # a file that appears is read from its start


def test_a_file_replaced_while_stopped_is_read_whole_and_counted(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    _write(log, ["a1", "a2", "a3"])
    f = FileFollower(log, start="begin")
    f.poll(2)
    pos = f.position()
    log.unlink()
    _write(log, ["n1"])
    g = FileFollower(log, start="end")
    g.restore(pos)
    assert _drain(g) == ["n1"] and g.counts["file_replaced_while_stopped"] == 1


def test_restore_refuses_a_broken_position(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="delete the checkpoint"):
        FileFollower(tmp_path / "a.log").restore({"offset": "x"})
    with pytest.raises(DataError, match="start="):
        FileFollower(tmp_path / "a.log", start="middle")


def test_standard_input_is_read_to_its_end_with_the_limit_kept() -> None:
    data = b"".join(f"s{i}\n".encode() for i in range(25)) + b"\x00bin\nlast-no-end"
    f = StdinFollower(io.BytesIO(data))
    got: list[str] = []
    for _ in range(1000):
        batch = f.poll(4)
        assert len(batch) <= 4
        got += _texts(batch)
        if f.exhausted:
            break
        if not batch:
            time.sleep(0.01)
    assert got == [f"s{i}" for i in range(25)] + ["last-no-end"]
    assert f.exhausted and f.counts["binary_lines"] == 1 and f.position() is None


def test_a_folder_reads_each_arriving_file_and_resumes_per_file(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    _write(folder / "1.log", ["x1", "x2"])
    (folder / "skip.txt").write_text("not matched\n")
    f = FolderFollower(folder, "*.log")
    assert _texts(f.poll()) == ["x1", "x2"]
    _write(folder / "2.log", ["y1"])
    f._listed = 0.0  # list again now rather than after LIST_EVERY
    assert _texts(f.poll()) == ["y1"]
    pos = f.position()
    _write(folder / "2.log", ["y2"], mode="a")
    g = FolderFollower(folder, "*.log")
    g.restore(pos)
    assert _drain(g) == ["y2"]
    assert g.counts_total()["files_seen"] == 2


def test_open_follower_picks_by_source_and_names_a_missing_folder(tmp_path: Path) -> None:
    assert isinstance(open_follower(str(tmp_path)), FolderFollower)
    assert isinstance(open_follower(str(tmp_path / "x.log")), FileFollower)
    with pytest.raises(DataError, match="does not exist"):
        open_follower(str(tmp_path / "nope" / "x.log"))


def test_until_takes_durations_and_dates_and_explains_anything_else() -> None:
    assert parse_until("90s", now=100.0) == 190.0
    assert parse_until("15m", now=0.0) == 900.0 and parse_until("2h", now=0.0) == 7200.0
    assert parse_until("2026-12-05T18:00") is not None
    assert parse_until(None) is None
    with pytest.raises(ConfigError, match="90s"):
        parse_until("soon")


def test_a_checkpoint_is_refused_for_another_model(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    (model / "omniad.json").write_text('{"a": 1}')
    fp = model_fingerprint(model)
    ckpt = tmp_path / "c.json"
    save(ckpt, {"model": fp, "lines": 3, "alerts": 0, "alerts_bytes": 0, "state": {}})
    assert load(ckpt, fp)["lines"] == 3
    (model / "omniad.json").write_text('{"a": 2}')
    with pytest.raises(DataError):
        load(ckpt, model_fingerprint(model))
