"""logdeep's files through ``logs.hdfs_sessions``' file parameters, a table of sessions given to ``logs.table``,
and a log whose label column never says "alert" given to ``logs.loghub``: all on files written to tmp_path
in the formats of the real ones (logdeep's ``data/hdfs``, loghub's Thunderbird)."""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from omniad.errors import ConfigError, DataError
from omniad.plugins import get_registry
from omniad_logs.datasets.hdfs_sessions_params import HDFSSessionsParams

#: HDFS block sessions as logdeep writes them: event ids separated by spaces, a space at the end
NORMAL = ["5 5 5 22 11 9 11 9 11 9 26 26 26 23 23 23 21 21 21", "22 5 5 5 26 26 26 11 9 11 9 11 9 23 23 23 21 21 21",
          "5 22 5 5 11 9 11 9 11 9 26 26 26 2 3 23 23 23 21 21 21"]
ABNORMAL = ["5 22 5 5 7", "22 5 5 5 11 9 11 9 26 26 26 4 3 23 23 23 21 21 21 18", "5 5 22 5 6 6 6 7"]


def sessions_file(path: Path, rows: list[str], n: int) -> Path:
    path.write_text("".join(f"{rows[i % len(rows)]} \n" for i in range(n)))
    return path


def robust_csv(path: Path, n_normal: int, n_abnormal: int) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Sequence", "label"])
        w.writerows([NORMAL[i % 3], 0] for i in range(n_normal))
        w.writerows([ABNORMAL[i % 3], 1] for i in range(n_abnormal))
    return path


def logdeep_folder(root: Path) -> Path:
    """logdeep's data/hdfs: the files ../shared has, and the ones it lacks (hdfs_test_normal, robust valid/test)."""
    root.mkdir(parents=True, exist_ok=True)
    sessions_file(root / "hdfs_train", NORMAL, 10)
    sessions_file(root / "hdfs_test_normal", NORMAL, 6)
    sessions_file(root / "hdfs_test_abnormal", ABNORMAL, 4)
    robust_csv(root / "robust_log_train.csv", 8, 8)
    robust_csv(root / "robust_log_valid.csv", 3, 2)
    robust_csv(root / "robust_log_test.csv", 5, 4)
    (root / "event2semantic_vec.json").write_text(json.dumps({str(e): [float(e), 1.0] for e in range(1, 30)}))
    return root


def sessions(**params: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none of these files needs a repair
        return get_registry().get("dataset", "logs.hdfs_sessions").create(params).load()[0]


def test_hdfs_test_normal_is_read_with_normal_test_file(tmp_path: Path) -> None:
    root = logdeep_folder(tmp_path / "hdfs")
    s = sessions(root=str(root), normal_test_file="hdfs_test_normal")
    assert s.meta["n_train"] == 10 and s.meta["n_test_normal"] == 6 and s.meta["n_test_anomalous"] == 4
    assert s.train.ids == [f"normal/{i}" for i in range(10)]  # logdeep's protocol: all of hdfs_train is fitted on
    assert s.test.ids[:6] == [f"test_normal/{i}" for i in range(6)]
    assert s.test.samples[0].events == tuple(NORMAL[0].split())
    assert s.meta["files"]["normal_test_file"] == str(root / "hdfs_test_normal")
    default = sessions(root=str(root))  # without it: hdfs_train split by train_fraction, as before
    assert default.meta["n_train"] == 5 and default.meta["n_test_normal"] == 5 and default.meta["n_test_anomalous"] == 4


@pytest.mark.parametrize("test_file", ["robust_log_test.csv", "robust_log_valid.csv"])
def test_robust_log_test_and_valid_are_read_with_robust_test_file(tmp_path: Path, test_file: str) -> None:
    root = logdeep_folder(tmp_path / "hdfs")
    s = sessions(root=str(root), protocol="logrobust", robust_test_file=test_file)
    with (root / test_file).open() as f:
        truth = [(tuple(r["Sequence"].split()), int(r["label"])) for r in csv.DictReader(f)]
    assert [(x.events, int(y)) for x, y in zip(s.test.samples, s.test.labels, strict=True)] == truth
    assert len(s.train) == 16 and [x.meta["label"] for x in s.train.samples] == list(s.train.labels)
    assert s.meta["n_train_anomalous"] == 8 and s.meta["test_sessions_read"] == len(truth)


def test_every_file_can_be_named_by_path(tmp_path: Path) -> None:
    root = logdeep_folder(tmp_path / "hdfs")
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    normal = sessions_file(elsewhere / "normal.txt", NORMAL, 4)
    bad = sessions_file(elsewhere / "bad.txt", ABNORMAL, 3)
    (elsewhere / "vec.json").write_text(json.dumps({str(e): [0.0, 1.0, 2.0] for e in range(1, 30)}))
    s = sessions(root=str(elsewhere), train_file=str(normal), abnormal_file="bad.txt", vectors_file="vec.json")
    assert s.meta["normal_sessions_read"] == 4 and s.meta["abnormal_sessions_read"] == 3
    assert s.test.samples[0].vocabulary.vectors["5"].shape == (3,)
    assert s.meta["files"] == {"train_file": str(normal), "abnormal_file": str(bad), "vectors_file": str(elsewhere / "vec.json")}
    r = sessions(root=str(root), protocol="logrobust", robust_file=str(root / "robust_log_valid.csv"),
                 robust_test_file=str(root / "robust_log_test.csv"))
    assert len(r.train) == 5 and len(r.test) == 9
    own = sessions(protocol="all", path=str(elsewhere), train_file="normal.txt", abnormal_file="bad.txt")
    assert own.meta["n_sessions"] == 7 and int(own.test.labels.sum()) == 3


def test_file_parameters_fail_clearly(tmp_path: Path) -> None:
    root = logdeep_folder(tmp_path / "hdfs")
    (root / "event2semantic_vec.json").unlink()
    assert sessions(root=str(root)).meta["semantic_vectors"] is False  # the default vectors may be absent
    create = get_registry().get("dataset", "logs.hdfs_sessions").create
    with pytest.raises(ConfigError, match=r"normal_test_file='hdfs_test_norml' is not a file .*hdfs_test_normal"):
        create({"root": str(root), "normal_test_file": "hdfs_test_norml"}).load()
    with pytest.raises(ConfigError, match=r"vectors_file='vec.json' is not a file"):
        create({"root": str(root), "vectors_file": "vec.json"}).load()
    (root / "hdfs_train").unlink()
    with pytest.raises(ConfigError, match=r"train_file='hdfs_train' is not a file \(looked for .*hdfs_train\)"):
        create({"root": str(root)}).load()
    with pytest.raises(ConfigError, match=r"normal_test_file is a test file of protocol='deeplog'.*set protocol"):
        create({"root": str(root), "protocol": "logrobust", "normal_test_file": "hdfs_test_normal"})
    with pytest.raises(ConfigError, match=r"robust_test_file is a test file of protocol='logrobust'"):
        create({"root": str(root), "robust_test_file": "robust_log_test.csv"})
    with pytest.raises(ConfigError, match=r"train_fraction=0.8 is not used with normal_test_file"):
        create({"root": str(root), "normal_test_file": "hdfs_test_normal", "train_fraction": 0.8})
    with pytest.raises(ConfigError, match=r"not an empty name"):
        create({"root": str(root), "abnormal_file": ""})
    # the core re-validates dumped parameters (every field then looks "given"): still valid
    params = HDFSSessionsParams(root=root, normal_test_file=Path("hdfs_test_normal"))
    assert HDFSSessionsParams.model_validate(params.model_dump(mode="json")) == params


# -- logs.table on a table of sessions ---------------------------------------------------------
@pytest.mark.parametrize("params", [{}, {"message_column": "Sequence"}, {"split": "all"},
                                    {"message_column": "Sequence", "split": "all"}])
def test_table_refuses_a_sequence_label_csv_and_names_the_loader(tmp_path: Path, params: dict[str, Any]) -> None:
    path = robust_csv(tmp_path / "robust_log_train.csv", 30, 10)
    with pytest.raises(DataError) as info:
        get_registry().get("dataset", "logs.table").create({"path": str(path), **params}).load()
    text = str(info.value)
    assert "sessions of event ids" in text and "logs.hdfs_sessions" in text
    assert f"robust_file={str(path)!r}" in text and f"path={str(path)!r}" in text
    # what the message says works
    s = sessions(protocol="all", path=str(path))
    assert s.meta["n_sessions"] == 40 and int(s.test.labels.sum()) == 10


def test_table_refuses_event_id_messages_but_reads_log_messages(tmp_path: Path) -> None:
    ids = tmp_path / "events.jsonl"
    ids.write_text("".join(json.dumps({"message": f"E5 E22 E{i % 9}", "label": 0}) + "\n" for i in range(30)))
    with pytest.raises(DataError, match=r"column 'message' holds sessions of event ids \(e.g. 'E5 E22 E0'\)"):
        get_registry().get("dataset", "logs.table").create({"path": str(ids), "window_size": 5}).load()
    logs = tmp_path / "app.jsonl"
    logs.write_text("".join(json.dumps({"message": f"job {i} took {i * 3} ms", "label": int(i == 17)}) + "\n"
                            for i in range(30)))
    subset = get_registry().get("dataset", "logs.table").create({"path": str(logs), "window_size": 5}).load()[0]
    assert subset.meta["n_sessions"] == 6


# -- logs.loghub on a log whose labels are all '-' ----------------------------------------------
def thunderbird(path: Path, n: int = 60, alert_at: int | None = None) -> Path:
    """Lines in loghub's Thunderbird layout, every label '-' (normal) unless ``alert_at``."""
    lines = []
    for i in range(n):
        t = 1131566461 + 7 * i
        label = "ECC" if i == alert_at else "-"
        node = f"dn{228 + i % 5}"
        lines.append(f"{label} {t} 2005.11.09 {node} Nov 9 12:{i // 8:02d}:{(7 * i) % 60:02d} {node}/{node} "
                     f"crond(pam_unix)[{2900 + i}]: session {'opened' if i % 2 else 'closed'} for user root")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_loghub_reads_a_log_without_alerts_as_unlabelled(tmp_path: Path) -> None:
    log = thunderbird(tmp_path / "Thunderbird_2k.log")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        subset = get_registry().get("dataset", "logs.loghub").create({"path": str(log), "window_size": 10}).load()[0]
    said = [str(w.message) for w in caught]
    assert any("this log carries no anomaly labels" in m and "omniad detect" in m for m in said), said
    assert subset.meta["labelled"] is False and subset.test.targets is None
    assert subset.meta["n_sessions"] == 6 and subset.test.labels.sum() == 0
    (tmp_path / "alert").mkdir()
    labelled = thunderbird(tmp_path / "alert" / "Thunderbird_2k.log", alert_at=55)  # one alert: labelled as before
    subset = get_registry().get("dataset", "logs.loghub").create({"path": str(labelled), "window_size": 10}).load()[0]
    assert subset.meta["labelled"] is True and subset.test.n_anomalous == 1
    np.testing.assert_array_equal(subset.test.targets[-1], (np.arange(50, 60) == 55).astype(np.int8))
