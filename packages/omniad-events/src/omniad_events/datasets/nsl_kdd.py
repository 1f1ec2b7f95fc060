"""NSL-KDD (``events.nsl_kdd``): network connections, one-class protocol, per-category breakdown.

Tavallaee et al. (IEEE CISDA 2009). Headerless CSV: the 41 KDD Cup 99 features, the label
(``normal`` or an attack name) and a difficulty level. Protocol: fit on the 13,449 normal rows
of ``KDDTrain+_20Percent.txt``, score ``KDDTest+.txt`` (22,544 rows) and ``KDDTest-21.txt``
(11,850) as two subsets, attack = anomaly. Each test row keeps its attack name and category
(DoS / Probe / R2L / U2R, the standard mapping with the test-only attacks; ``ATTACKS``) in
``Split.meta["categories"]`` / ``["attacks"]`` for ``events.category_recall``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from omniad.data import Split, Subset
from omniad.errors import ConfigError, DataError
from omniad.shared import shared_data_root
from omniad_events.datasets.base import EventDataset
from omniad_events.datasets.params import NSLKDDParams
from omniad_events.datasets.reading import frame_to_table

FEATURES = (
    "duration",
    "protocol_type",
    "service",
    "flag",
    "src_bytes",
    "dst_bytes",
    "land",
    "wrong_fragment",
    "urgent",
    "hot",
    "num_failed_logins",
    "logged_in",
    "num_compromised",
    "root_shell",
    "su_attempted",
    "num_root",
    "num_file_creations",
    "num_shells",
    "num_access_files",
    "num_outbound_cmds",
    "is_host_login",
    "is_guest_login",
    "count",
    "srv_count",
    "serror_rate",
    "srv_serror_rate",
    "rerror_rate",
    "srv_rerror_rate",
    "same_srv_rate",
    "diff_srv_rate",
    "srv_diff_host_rate",
    "dst_host_count",
    "dst_host_srv_count",
    "dst_host_same_srv_rate",
    "dst_host_diff_srv_rate",
    "dst_host_same_src_port_rate",
    "dst_host_srv_diff_host_rate",
    "dst_host_serror_rate",
    "dst_host_srv_serror_rate",
    "dst_host_rerror_rate",
    "dst_host_srv_rerror_rate",
)
COLUMNS = (*FEATURES, "label", "difficulty")
TRAIN = "KDDTrain+_20Percent.txt"
FILES = {"KDDTest+": "KDDTest+.txt", "KDDTest-21": "KDDTest-21.txt"}
_CATEGORIES = {
    "DoS": (
        "back",
        "land",
        "neptune",
        "pod",
        "smurf",
        "teardrop",
        "apache2",
        "mailbomb",
        "processtable",
        "udpstorm",
    ),
    "Probe": ("ipsweep", "nmap", "portsweep", "satan", "mscan", "saint"),
    "R2L": (
        "ftp_write",
        "guess_passwd",
        "imap",
        "multihop",
        "phf",
        "spy",
        "warezclient",
        "warezmaster",
        "named",
        "sendmail",
        "snmpgetattack",
        "snmpguess",
        "worm",
        "xlock",
        "xsnoop",
    ),
    "U2R": ("buffer_overflow", "loadmodule", "perl", "rootkit", "httptunnel", "ps", "sqlattack", "xterm"),
}
#: attack name -> category (the mapping most NSL-KDD papers use; httptunnel as U2R)
ATTACKS = {attack: cat for cat, names in _CATEGORIES.items() for attack in names}


def category(label: str) -> str:
    return "normal" if label == "normal" else ATTACKS.get(label, "unknown")


def default_root() -> Path:
    return shared_data_root() / "data" / "nsl_kdd"


class NSLKDD(EventDataset):
    Params = NSLKDDParams

    def _root(self) -> Path:
        root = Path(self.params.root).expanduser() if self.params.root is not None else default_root()
        missing = [f for f in (TRAIN, *(FILES[s] for s in self.params.subsets)) if not (root / f).is_file()]
        if missing:
            raise ConfigError(
                f"{self.where}: {root} lacks {missing}; set root to the NSL-KDD folder (or "
                "$OMNIAD_SHARED_DATA so that data/nsl_kdd is under it)"
            )
        bad = [e for e in self.params.entities if e not in FEATURES]
        if bad:
            raise ConfigError(
                f"{self.where}: entities {bad} are not NSL-KDD features (they are: {list(FEATURES)})"
            )
        return root

    def _read(self, path: Path, limit: int | None,
              normal_only: bool) -> tuple[tuple[Any, list[str]], dict[str, int], list[str]]:
        import pandas as pd

        p = self.params
        try:
            frame = pd.read_csv(path, header=None, dtype=str, keep_default_na=False)
        except (ValueError, OSError) as exc:
            raise DataError(f"{self.where}: cannot read {path} ({exc})") from None
        if frame.shape[1] != len(COLUMNS):
            raise DataError(
                f"{self.where}: {path.name} has {frame.shape[1]} columns, NSL-KDD has {len(COLUMNS)} "
                "(41 features, label, difficulty)"
            )
        frame.columns = list(COLUMNS)
        frame["label"] = frame["label"].str.strip()
        if normal_only:
            frame = frame[frame["label"] == "normal"]
        if limit is not None and len(frame) > limit:
            keep = np.sort(np.random.default_rng(p.seed).choice(len(frame), size=limit, replace=False))
            frame = frame.iloc[keep]
        numeric = [f for f in FEATURES if f not in p.entities]
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            table, counts, constant = frame_to_table(frame, list(p.entities), numeric, f"{self.where}: {path.name}")
        return (table, frame["label"].tolist()), counts, constant

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        root = self._root()
        (train, _), train_counts, train_constant = self._read(root / TRAIN, p.max_train, normal_only=True)
        for name in p.subsets:
            (test, labels), counts, constant = self._read(root / FILES[name], p.max_test, normal_only=False)
            cats = [category(label) for label in labels]
            unknown = sorted({lab for lab, c in zip(labels, cats, strict=True) if c == "unknown"})
            if unknown:
                warnings.warn(
                    f"{self.where}: {name}: attack names {unknown[:5]} have no category; counted as "
                    "'unknown'",
                    UserWarning,
                    stacklevel=2,
                )
            y = np.array([c != "normal" for c in cats], dtype=np.int8)
            per_cat = {c: cats.count(c) for c in sorted(set(cats))}
            yield Subset(
                name=name,
                train=Split(
                    samples=train,
                    labels=np.zeros(len(train), np.int8),
                    ids=[f"train-{i}" for i in range(len(train))],
                ),
                test=Split(
                    samples=test,
                    labels=y,
                    ids=[f"{name}-{i}" for i in range(len(test))],
                    meta={"categories": cats, "attacks": labels},
                ),
                meta={
                    # whole numbers, one level (the runner's data notes read them): train_rows, test_missing_numbers...
                    "counts": {**{f"train_{k}": v for k, v in train_counts.items()},
                               **{f"test_{k}": v for k, v in counts.items()}, "unknown_attacks": len(unknown)},
                    "constant_fields": {"train": train_constant, "test": constant},
                    "categories": per_cat,
                    "protocol": "fit on normal rows of KDDTrain+_20Percent",
                },
            )
