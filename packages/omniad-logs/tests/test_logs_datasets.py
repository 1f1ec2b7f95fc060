"""Log datasets: conformance of every loader (real loghub 2k samples where present) and the generator."""

from __future__ import annotations

import atexit
import csv
import re
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from omniad.errors import ConfigError
from omniad.plugins import get_registry
from omniad.scores import Scores
from omniad.testing import DatasetConformance
from omniad_logs.datasets.params import SyntheticParams
from omniad_logs.datasets.reading import shared_data_root
from omniad_logs.datasets.synthetic import LOG_NAME, Synthetic, materialize
from omniad_logs.session import LogSession

LOGHUB = shared_data_root() / "data" / "loghub"
BGL_LOG = LOGHUB / "BGL" / "BGL_2k.log"
HDFS_LOG = LOGHUB / "HDFS" / "HDFS_2k.log"
needs_bgl = pytest.mark.skipif(not BGL_LOG.is_file(), reason=f"loghub BGL sample not found at {BGL_LOG} (set OMNIAD_SHARED_DATA)")
needs_hdfs = pytest.mark.skipif(not HDFS_LOG.is_file(), reason=f"loghub HDFS sample not found at {HDFS_LOG} (set OMNIAD_SHARED_DATA)")

_TMP = Path(tempfile.mkdtemp(prefix="omniad-logs-datasets-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)
SYNTH = {"n_sessions": 120, "root": str(_TMP / "synthetic")}


def hdfs_with_labels(folder: Path) -> Path:
    """HDFS_2k beside a label file: every 8th block anomalous, plus three blocks the log does not have."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "HDFS_2k.log"
    if not log.exists():
        shutil.copy(HDFS_LOG, log)
        blocks = list(dict.fromkeys(re.findall(r"blk_-?\d+", HDFS_LOG.read_text())))
        with (folder / "anomaly_label.csv").open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["BlockId", "Label"])
            w.writerows((b, "Anomaly" if i % 8 == 0 else "Normal") for i, b in enumerate(blocks))
            w.writerows((f"blk_99999999{i}", "Normal") for i in range(3))
    return log


def write_table(path: Path, n_sessions: int = 12, per: int = 6) -> Path:
    rng = np.random.default_rng(0)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ts", "sid", "message", "label"])
        t = 1_700_000_000
        for s in range(n_sessions):
            for k in range(per):
                bad = s % 4 == 3 and k == 2
                msg = f"disk failure on node {rng.integers(9)}" if bad else f"step {k} done for job {s} in {rng.integers(5, 50)} ms"
                w.writerow([t, f"job{s}", msg, "1" if bad else "0"])
                t += 3
    return path


class TestSyntheticConformance(DatasetConformance):
    dataset_id = "logs.synthetic"
    params: ClassVar[dict[str, Any]] = SYNTH


@needs_bgl
class TestBGLConformance(DatasetConformance):
    dataset_id = "logs.bgl"
    params: ClassVar[dict[str, Any]] = {"path": str(BGL_LOG), "window_size": 50}


@needs_bgl
class TestBGLSlidingTimeConformance(DatasetConformance):
    dataset_id = "logs.bgl"
    params: ClassVar[dict[str, Any]] = {"path": str(BGL_LOG), "window": "sliding", "window_unit": "seconds",
                                        "window_size": 6 * 3600, "window_step": 3600, "train_fraction": 0.6}


@needs_bgl
class TestLoghubConformance(DatasetConformance):
    dataset_id = "logs.loghub"
    params: ClassVar[dict[str, Any]] = {"path": str(BGL_LOG), "window_size": 40, "events": "ground_truth"}


@needs_hdfs
class TestHDFSConformance(DatasetConformance):
    dataset_id = "logs.hdfs"
    params: ClassVar[dict[str, Any]] = {"path": str(_TMP / "hdfs")}

    @classmethod
    def setup_class(cls) -> None:
        hdfs_with_labels(_TMP / "hdfs")


class TestTableConformance(DatasetConformance):
    dataset_id = "logs.table"
    params: ClassVar[dict[str, Any]] = {"path": str(_TMP / "table.csv"), "session_column": "sid",
                                        "timestamp_column": "ts", "split": "random"}

    @classmethod
    def setup_class(cls) -> None:
        write_table(_TMP / "table.csv")


# --- what each loader promises -------------------------------------------------------------------


def test_cards_follow_the_logs_protocol() -> None:
    registry = get_registry()
    for dataset_id in ("logs.synthetic", "logs.hdfs", "logs.bgl", "logs.loghub", "logs.table"):
        card = registry.get("dataset", dataset_id).card
        assert card.modality == "logs"
        assert card.metrics[:4] == ("core.f1_max", "core.auroc", "core.aupr", "core.prf_at_decision")
        assert all(("metric", m) in registry for m in card.metrics), card.metrics
        assert ("core.local_auroc" in card.metrics) == (card.localization == "line")
        assert card.needs_data == (dataset_id != "logs.synthetic")
    synthetic = registry.get("dataset", "logs.synthetic").card
    assert synthetic.demo and synthetic.demo_params


def test_synthetic_writes_loghub_files_once(tmp_path: Path) -> None:
    params = SyntheticParams(n_sessions=40, root=tmp_path)
    folder = materialize(params, "test")
    log = folder / LOG_NAME
    stamp = log.stat().st_mtime_ns
    assert materialize(params, "test") == folder and log.stat().st_mtime_ns == stamp  # idempotent
    assert materialize(SyntheticParams(n_sessions=40, root=tmp_path, seed=1), "test") != folder
    with (folder / f"{LOG_NAME}_structured.csv").open() as f:
        rows = list(csv.DictReader(f))
    raw = log.read_text().splitlines()
    assert len(rows) == len(raw)
    assert all(row["Content"] in line for row, line in zip(rows, raw, strict=True))
    assert {"LineId", "Label", "EventId", "EventTemplate"} <= set(rows[0])


def test_synthetic_marks_the_injected_lines(tmp_path: Path) -> None:
    subset = Synthetic(n_sessions=150, root=tmp_path, events="ground_truth").load()[0]
    test = subset.test
    train_events = {e for s in subset.train.samples for e in s.events}
    kinds = set()
    for session, label, target, severity in zip(test.samples, test.labels, test.targets, test.severity, strict=True):
        assert isinstance(session, LogSession) and len(target) == len(session)
        assert bool(label) == bool(target.any()) == (severity > 0)
        if label:
            kind = session.meta["anomaly_kind"]
            kinds.add(kind)
            marked = {session.events[i] for i in np.flatnonzero(target)}
            if kind == "unseen_template":
                assert not marked & train_events, "unseen-template lines must use templates no normal session has"
            if kind == "burst":
                assert len(marked) == 1 and target.sum() == 3 * 2 + 2
            if kind == "odd_parameter":
                (i,) = np.flatnonzero(target)
                ms = int(re.search(r"in (\d+) ms", session.lines[i]).group(1))
                assert ms > 1000
    assert kinds == {"unseen_template", "broken_order", "burst", "missing_step", "odd_parameter"}
    assert subset.meta["counts"]["lines_without_session"] > 0
    assert subset.meta["counts"]["lines_unmatched_header"] == 0


def test_synthetic_parsing_recovers_the_events(tmp_path: Path) -> None:
    """The demo path parses the written lines: mined events must group lines like the ground truth."""
    from omniad_logs.datasets.synthetic import ERRORS, event_table

    mined = Synthetic(n_sessions=80, root=tmp_path).load()[0]
    truth = Synthetic(n_sessions=80, root=tmp_path, events="ground_truth").load()[0]
    a = [e for s in mined.test.samples for e in s.events]
    b = [e for s in truth.test.samples for e in s.events]
    assert len(a) == len(b)
    groups_a: dict[str, set[int]] = {}
    groups_b: dict[str, set[int]] = {}
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        groups_a.setdefault(x, set()).add(i)
        groups_b.setdefault(y, set()).add(i)
    # loghub's grouping accuracy: a line counts when its mined group is exactly its true group
    accuracy = sum(len(groups_a[x]) for x in groups_a if groups_a[x] in groups_b.values()) / len(a)
    assert accuracy >= 0.9, f"grouping accuracy {accuracy:.3f} on the synthetic logs"
    errors = {event_table()[s.template] for s in ERRORS}
    for x, lines in groups_a.items():
        kinds = {b[i] in errors for i in lines}
        assert len(kinds) == 1, f"mined event {x} mixes error templates with normal ones (anomalies would hide)"


@needs_hdfs
def test_hdfs_groups_by_block_and_counts_unknown_labels(tmp_path: Path) -> None:
    log = hdfs_with_labels(tmp_path)
    with pytest.warns(UserWarning, match="label_ids_unknown=3"):
        subset = get_registry().get("dataset", "logs.hdfs").create({"path": str(log)}).load()[0]
    counts = subset.meta["counts"]
    assert counts["label_ids_unknown"] == 3 and counts["sessions_without_label"] == 0
    sessions = {s.id: s for s in [*subset.train.samples, *subset.test.samples]}
    text = HDFS_LOG.read_text().splitlines()
    ids_per_line = [set(re.findall(r"blk_-?\d+", line)) for line in text]
    assert len(sessions) == len(set().union(*ids_per_line)) and subset.test.targets is None
    # a replication line names two blocks: it belongs to both sessions
    two = next(line for line in text if len(set(re.findall(r"blk_-?\d+", line))) > 1)
    a, b = list(dict.fromkeys(re.findall(r"blk_-?\d+", two)))[:2]
    content = two.split(": ", 1)[1]
    assert content in sessions[a].lines and content in sessions[b].lines
    assert counts["lines_in_several_sessions"] == sum(len(ids) > 1 for ids in ids_per_line)
    assert counts["lines_without_session"] == sum(not ids for ids in ids_per_line)
    assert counts["single_line_sessions"] == sum(len(s) == 1 for s in sessions.values())
    assert set(subset.train.ids).isdisjoint(subset.test.ids) and subset.train.labels.sum() == 0


@needs_hdfs
def test_hdfs_without_label_file_names_the_parameter(tmp_path: Path) -> None:
    shutil.copy(HDFS_LOG, tmp_path / "HDFS_2k.log")
    with pytest.raises(ConfigError, match="'labels'"):
        get_registry().get("dataset", "logs.hdfs").create({"path": str(tmp_path)}).load()
    with pytest.raises(ConfigError, match="labels=.*does not exist"):
        get_registry().get("dataset", "logs.hdfs").create(
            {"path": str(tmp_path), "labels": str(tmp_path / "nope.csv")}).load()


@needs_bgl
def test_bgl_labels_and_windows() -> None:
    subset = get_registry().get("dataset", "logs.bgl").create({"path": str(BGL_LOG), "window_size": 100}).load()[0]
    truth = np.array([line.split(" ", 1)[0] != "-" for line in BGL_LOG.read_text().splitlines()], dtype=np.int8)
    assert subset.meta["n_sessions"] == 20 and subset.meta["n_anomalous_lines"] == int(truth.sum()) == 143
    assert sum(subset.meta["alert_categories"].values()) == 143
    # chronological: train = normal windows among the first 10, the anomalous ones moved to test
    assert subset.meta["counts"]["train_period_anomalies_to_test"] == int((truth[:1000].reshape(10, 100).any(1)).sum())
    for session, target in zip(subset.test.samples, subset.test.targets, strict=True):
        first = int(session.meta["line_numbers"][0]) - 1
        np.testing.assert_array_equal(target, truth[first:first + len(session)])


@needs_bgl
def test_ground_truth_events_match_the_structured_csv() -> None:
    subset = get_registry().get("dataset", "logs.loghub").create(
        {"path": str(BGL_LOG), "events": "ground_truth", "window_size": 100}).load()[0]
    with (BGL_LOG.parent / "BGL_2k.log_structured.csv").open() as f:
        truth = [r["EventId"] for r in csv.DictReader(f)]
    windows = sorted([*subset.train.samples, *subset.test.samples], key=lambda s: int(s.meta["line_numbers"][0]))
    assert [e for s in windows for e in s.events] == truth
    assert subset.meta["counts"]["lines_without_ground_truth"] == 0


SYSTEMS = sorted(p.name for p in LOGHUB.iterdir() if p.is_dir()) if LOGHUB.is_dir() else []


@pytest.mark.skipif(not SYSTEMS, reason=f"loghub samples not found at {LOGHUB} (set OMNIAD_SHARED_DATA)")
@pytest.mark.parametrize("system", SYSTEMS)
def test_every_loghub_system_loads_with_headers_times_and_ground_truth(system: str) -> None:
    log = LOGHUB / system / f"{system}_2k.log"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unlabelled systems warn that they are for inspection
        subset = get_registry().get("dataset", "logs.loghub").create(
            {"path": str(log), "events": "ground_truth", "window_size": 100}).load()[0]
    counts = subset.meta["counts"]
    assert counts["lines_read"] == 2000 and counts["lines_unmatched_header"] == 0
    assert counts["lines_without_timestamp"] == 0 and counts["lines_without_ground_truth"] == 0
    assert subset.meta["labelled"] == (system in ("BGL", "Thunderbird"))
    stamps = np.concatenate([s.timestamps for s in [*subset.train.samples, *subset.test.samples]])
    assert np.isfinite(stamps).all()


def test_render_examples_draws_sessions(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    dataset = Synthetic(n_sessions=60, root=tmp_path / "data")
    subset = dataset.load()[0]
    n = len(subset.test)
    local = [np.linspace(0, 1, len(s)) for s in subset.test.samples]
    scores = Scores(sample=np.arange(n, dtype=float), local=local)
    paths = dataset.render_examples(subset, scores, tmp_path / "pics", max_examples=3)
    assert len(paths) == 3 and all(p.suffix == ".png" and p.stat().st_size > 0 for p in paths)
    no_local = dataset.render_examples(subset, Scores(sample=np.zeros(n)), tmp_path / "pics2", max_examples=1)
    assert len(no_local) == 1


def test_render_examples_without_matplotlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from omniad_logs.datasets import render

    dataset = Synthetic(n_sessions=40, root=tmp_path / "data")
    subset = dataset.load()[0]
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setattr(render, "_warned", False)
    scores = Scores(sample=np.zeros(len(subset.test)))
    with pytest.warns(UserWarning, match="matplotlib is not installed"):
        assert dataset.render_examples(subset, scores, tmp_path / "pics") == []
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once, not per subset
        assert dataset.render_examples(subset, scores, tmp_path / "pics") == []
    assert not (tmp_path / "pics").exists()


def test_line_timestamps_of_loghub_layouts() -> None:
    from datetime import UTC, datetime

    from omniad_logs.datasets.reading import line_timestamp

    def utc(*args: int) -> float:
        return datetime(*args, tzinfo=UTC).timestamp()

    assert line_timestamp({"Date": "081109", "Time": "203615"}) == utc(2008, 11, 9, 20, 36, 15)
    assert line_timestamp({"Timestamp": "1117838570", "Time": "2005-06-03-15.42.50.675872"}) == 1117838570
    assert line_timestamp({"Time": "2005-06-03-15.42.50.5"}) == utc(2005, 6, 3, 15, 42, 50, 500000)
    assert line_timestamp({"Date": "2015-10-18", "Time": "18:01:47,978"}) == utc(2015, 10, 18, 18, 1, 47, 978000)
    assert line_timestamp({"Time": "Sun Dec 04 04:47:44 2005"}) == utc(2005, 12, 4, 4, 47, 44)
    assert line_timestamp({"Time": "1077804742"}) == 1077804742
    assert np.isnan(line_timestamp({"Date": "yesterday", "Time": "noon"}))


def test_synthetic_default_cache_folder_is_keyed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIAD_CACHE_DIR", str(tmp_path))
    a = Synthetic(n_sessions=30).load()[0].meta["root"]
    b = Synthetic(n_sessions=30, train_fraction=0.3).load()[0].meta["root"]  # a loader setting: same files
    c = Synthetic(n_sessions=31).load()[0].meta["root"]
    assert a == b != c and Path(a).parent == tmp_path / "logs-synthetic"
