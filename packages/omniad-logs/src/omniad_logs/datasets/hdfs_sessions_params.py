"""Parameters of ``logs.hdfs_sessions`` (pydantic only: the card points here).

The file parameters name logdeep's files one role each, so that every file of its HDFS folder can
be loaded (``hdfs_test_normal``, ``robust_log_valid.csv``, ``robust_log_test.csv`` included)
while the defaults keep reading the copy in ``../shared``. A file parameter is a name inside
``root`` or a path; whether it exists is checked when the dataset is read (``HDFSSessions``),
which combinations make sense is checked here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from omniad.params import Params

_WHERE = "a file name inside 'root', or a path"


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
        description="deeplog: fit on a seeded train_fraction of train_file (normal sessions), test on the "
        "other normal sessions + abnormal_file; with normal_test_file (logdeep's hdfs_test_normal): fit on all "
        "of train_file, test on normal_test_file + abnormal_file; logrobust: supervised, a seeded "
        "train_fraction of robust_file (labelled, balanced) is the train split, the rest the test split (with "
        "robust_test_file: all of robust_file trains, robust_test_file tests); train labels are in "
        "Split.labels and in each train session's meta['label']; all: your own data (omniad fit / score / "
        "detect) — every session of 'path' is tested, those not labelled anomalous are fitted on, labels optional",
    )
    train_file: Path = Field(
        default=Path("hdfs_train"),
        description=f"deeplog: normal sessions, one space-separated event-id sequence per line ({_WHERE}); "
        "all: the normal file of a logdeep folder",
    )
    abnormal_file: Path = Field(
        default=Path("hdfs_test_abnormal"),
        description=f"deeplog: anomalous test sessions, same format as train_file ({_WHERE}); all: the "
        "anomalous file of a logdeep folder",
    )
    normal_test_file: Path | None = Field(
        default=None,
        description=f"deeplog: normal test sessions (logdeep's hdfs_test_normal, {_WHERE}); when given, all of "
        "train_file is fitted on and train_fraction is not used; default: none, train_file is split",
    )
    robust_file: Path = Field(
        default=Path("robust_log_train.csv"),
        description=f"logrobust: 'Sequence,label' CSV (label 0/1) to train on ({_WHERE})",
    )
    robust_test_file: Path | None = Field(
        default=None,
        description="logrobust: 'Sequence,label' CSV to test on (logdeep's robust_log_test.csv, or "
        f"robust_log_valid.csv; {_WHERE}); when given, all of robust_file trains and train_fraction is not "
        "used; default: none, robust_file is split",
    )
    vectors_file: Path | None = Field(
        default=None,
        description=f"event id -> semantic vector JSON ({_WHERE}); default: event2semantic_vec.json when the "
        "folder has it (else none: detectors learn their own embeddings); a file you name must exist",
    )
    train_fraction: float = Field(
        default=0.5, gt=0, lt=1,
        description="deeplog: share of train_file used for fitting (the rest is normal test data); logrobust: "
        "share of robust_file; not used with normal_test_file / robust_test_file",
    )
    max_sessions: int | None = Field(
        default=None, ge=2,
        description="read at most this many sessions per file (a seeded sample, file order kept): small, fast subsets for tests",
    )
    seed: int = Field(default=0, description="seed of the train/test split and of the max_sessions sample")

    @field_validator("train_file", "abnormal_file", "normal_test_file", "robust_file", "robust_test_file",
                     "vectors_file")
    @classmethod
    def _a_name(cls, value: Path | None) -> Path | None:
        if value is not None and str(value).strip() in ("", "."):
            raise ValueError(f"give a file ({_WHERE}), not an empty name")
        return value

    @model_validator(mode="after")
    def _files_fit_the_protocol(self) -> HDFSSessionsParams:
        for name, protocol in (("normal_test_file", "deeplog"), ("robust_test_file", "logrobust")):
            if getattr(self, name) is None:
                continue
            if self.protocol != protocol:
                raise ValueError(f"{name} is a test file of protocol={protocol!r}, not of protocol="
                                 f"{self.protocol!r}; set protocol={protocol!r} or drop {name}")
            # compared with the default, not "was it given": the core re-validates dumped parameters
            if self.train_fraction != type(self).model_fields["train_fraction"].default:
                raise ValueError(f"train_fraction={self.train_fraction} is not used with {name} (it splits the "
                                 f"training file only when there is no {name}; with {name} every training "
                                 "session is fitted on): drop one of the two")
        return self
