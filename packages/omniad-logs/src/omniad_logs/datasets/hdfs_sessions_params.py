"""Parameters of ``logs.hdfs_sessions`` (pydantic only: the card points here)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from omniad.params import Params


class HDFSSessionsParams(Params):
    root: Path | None = Field(
        default=None,
        description="folder with hdfs_train, hdfs_test_abnormal, robust_log_train.csv and "
        "event2semantic_vec.json (logdeep's preprocessed HDFS); default $OMNIAD_SHARED_DATA/data/hdfs_sessions",
    )
    path: Path | None = Field(
        default=None,
        description="protocol='all': a file of pre-parsed sessions — a CSV with a Sequence column (event ids "
        "separated by spaces) and an optional label column, or a text file with one session per line — or a "
        "folder in logdeep's layout; default: root",
    )
    protocol: Literal["deeplog", "logrobust", "all"] = Field(
        default="deeplog",
        description="deeplog: fit on a seeded train_fraction of hdfs_train (normal sessions), test on the "
        "other normal sessions + hdfs_test_abnormal (there is no normal test file); logrobust: supervised, "
        "a seeded train_fraction of robust_log_train.csv (labelled, balanced) is the train split, the rest the "
        "test split; train labels are in Split.labels and in each train session's meta['label']; all: your own "
        "data (omniad fit / score / detect) — every session of 'path' is tested, those not labelled anomalous "
        "are fitted on, labels optional",
    )
    train_fraction: float = Field(
        default=0.5, gt=0, lt=1,
        description="deeplog: share of hdfs_train used for fitting; logrobust: share of robust_log_train.csv",
    )
    max_sessions: int | None = Field(
        default=None, ge=2,
        description="read at most this many sessions per file (a seeded sample, file order kept): small, fast subsets for tests",
    )
    seed: int = Field(default=0, description="seed of the train/test split and of the max_sessions sample")
