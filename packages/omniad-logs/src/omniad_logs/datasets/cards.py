"""Registry cards for log datasets (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar

_P = "omniad_logs.datasets"
# The log protocol (DeepLog, LogRobust, deep-loglizer): session F1 first — at the best threshold
# and at the detector's own decision rule — then the ranking areas; per-line AUROC where the
# data marks the anomalous lines.
_METRICS = ("core.f1_max", "core.auroc", "core.aupr", "core.prf_at_decision")
_LINE_METRICS = (*_METRICS, "core.local_auroc")
# Own data (omniad fit / score / detect on a bare path): each loader's "everything" mode, windows of
# own.OWN_WINDOW lines unless the user says otherwise; probes break ties between loaders of one suffix.
_OWN_WINDOW = 20  # own.OWN_WINDOW (not imported: cards stay import-light)
_PROBES = f"{_P}.probes"


def register(registry: Registrar) -> None:
    registry.add(
        id="logs.synthetic", target=f"{_P}.synthetic:Synthetic", params=f"{_P}.params:SyntheticParams",
        split_seed_param="seed",
        modality="logs", localization="line", metrics=_LINE_METRICS,
        summary="Generated service logs written as loghub files (header, structured CSV, labels) and parsed back: "
        "workflow sessions with unseen templates, broken order, bursts, missing steps, odd parameters",
        demo=True, demo_params={"n_sessions": 200},
    )
    registry.add(
        id="logs.hdfs", target=f"{_P}.hdfs:HDFS", params=f"{_P}.params:HDFSParams",
        split_seed_param="seed",
        modality="logs", localization=None, metrics=_METRICS, needs_data=True,
        summary="HDFS raw log grouped into block sessions (blk_ ids), labels from anomaly_label.csv",
        reference="Xu et al., SOSP 2009; loghub (Zhu et al., ISSRE 2023)",
        path_param="path", reads=(".log", "/"), probe=f"{_PROBES}:hdfs",
        source_params={"split": "all", "log_format": "auto"},
    )
    registry.add(  # owned by the sequence engineer (datasets/hdfs_sessions.py)
        id="logs.hdfs_sessions", target=f"{_P}.hdfs_sessions:HDFSSessions",
        split_seed_param="seed",
        params=f"{_P}.hdfs_sessions_params:HDFSSessionsParams", modality="logs", localization=None,
        metrics=("core.prf_at_decision", "core.f1_max", "core.auroc", "core.aupr"), needs_data=True,
        path_param="path", reads=(".csv", ".txt", "/"), probe=f"{_PROBES}:sequences",
        source_params={"protocol": "all"},
        summary="logdeep's pre-parsed HDFS event-id sessions; hdfs_train is split by a seeded ratio into fit and "
        "normal-test sessions (+ hdfs_test_abnormal) unless normal_test_file names hdfs_test_normal; "
        "protocol='logrobust': supervised, seeded split of robust_log_train.csv with train labels (or "
        "robust_test_file); every file has a parameter",
        reference="Du et al., CCS 2017 (DeepLog); Zhang et al., FSE 2019 (LogRobust); logdeep",
    )
    registry.add(
        id="logs.bgl", target=f"{_P}.bgl:BGL", params=f"{_P}.params:BGLParams",
        split_seed_param="seed",
        modality="logs", localization="line", metrics=_LINE_METRICS, needs_data=True,
        summary="BGL / Thunderbird raw logs with per-line alert labels, in fixed or sliding windows by lines or time",
        reference="Oliner & Stearley, DSN 2007; He et al., ISSRE 2016 (windows)",
        path_param="path", reads=(".log", "/"), probe=f"{_PROBES}:bgl",
        source_params={"split": "all", "log_format": "auto", "window_size": _OWN_WINDOW},
    )
    registry.add(
        id="logs.loghub", target=f"{_P}.loghub:Loghub", params=f"{_P}.params:LoghubParams",
        split_seed_param="seed",
        modality="logs", localization="line", metrics=_LINE_METRICS, needs_data=True,
        summary="Any raw log (loghub's or your own .log/.txt) in windows or id sessions, header format probed; "
        "labelled where lines carry labels (BGL-style), else unlabelled",
        reference="loghub (Zhu et al., ISSRE 2023)",
        path_param="path", reads=(".log", ".txt", ".out", "/"), probe=f"{_PROBES}:raw_log",
        source_params={"split": "all", "log_format": "auto", "window_size": _OWN_WINDOW, "pattern": "*.log,*.txt"},
    )
    registry.add(
        id="logs.table", target=f"{_P}.table:Table", params=f"{_P}.params:TableParams",
        split_seed_param="seed",
        modality="logs", localization="line", metrics=_LINE_METRICS, needs_data=True,
        summary="CSV/JSONL of log lines: a message column, optional label, session and timestamp columns",
        path_param="path", reads=(".csv", ".jsonl", ".json", ".ndjson", "/"), probe=f"{_PROBES}:table",
        source_params={"split": "all", "window_size": _OWN_WINDOW},
    )
