"""logdeep's preprocessed HDFS: block sessions already parsed to event-id sequences.

The files (``/work/shared/data/hdfs_sessions``, from logdeep) are ``hdfs_train`` (4,855 normal
sessions, one space-separated event-id sequence per line), ``hdfs_test_abnormal`` (16,838
anomalous sessions), ``robust_log_train.csv`` (``Sequence,label``, 6,000 normal + 6,000
anomalous, LogRobust's training set) and ``event2semantic_vec.json`` (event id -> 300-d
semantic vector), which becomes ``EventVocabulary.vectors``. There is no template text, so
the vocabulary's templates are empty and an event's "template" is its id.

logdeep tests on a 553k-session ``hdfs_test_normal`` file that is not part of this copy, so
the ``deeplog`` protocol splits ``hdfs_train`` by a seeded ``train_fraction`` into fit and
normal-test sessions. The test split is then mostly anomalous (about 2.4k normal against
16.8k anomalous at the default 0.5), which flatters precision: report the counts
(``Subset.meta``) with any F1.

The ``logrobust`` protocol is supervised. The core's runner hands a detector only the train
samples, so each train session carries its label in ``meta["label"]`` (also in the train
``Split.labels``); supervised detectors read it there, unsupervised next-event models leave
the anomalous ones out of training.

``protocol='all'`` reads your own pre-parsed sessions (``omniad fit / score`` on a bare path):
a CSV with a ``Sequence`` column and an optional label column (``robust_log_train.csv``'s
layout), a text file with one session per line (``hdfs_train``'s), or a folder in logdeep's
layout (``hdfs_train`` normal, ``hdfs_test_abnormal`` anomalous). Every session is tested,
those not labelled anomalous are fitted on; ids are ``<file>:<line>``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from omniad.data import Split, Subset, whole_subset
from omniad.errors import DataError
from omniad_logs.datasets.base import NOTEWORTHY, LogDataset, warn_counts
from omniad_logs.datasets.hdfs_sessions_params import HDFSSessionsParams
from omniad_logs.datasets.reading import require_path, shared_data_root
from omniad_logs.session import EventVocabulary, LogSession

TRAIN_FILE = "hdfs_train"
ABNORMAL_FILE = "hdfs_test_abnormal"
ROBUST_FILE = "robust_log_train.csv"
VECTORS_FILE = "event2semantic_vec.json"


def read_sequences(path: Path, where: str, counts: dict[str, int]) -> list[tuple[str, ...]]:
    """One tuple of event ids per non-empty line (empty lines are sessions without events: skipped, counted)."""
    if not path.is_file():
        raise DataError(f"{where}: {path} is missing; set 'root' to logdeep's preprocessed HDFS folder")
    out: list[tuple[str, ...]] = []
    empty = 0
    with path.open(encoding="utf-8") as f:
        for line in f:
            events = tuple(line.split())
            if events:
                out.append(events)
            else:
                empty += 1
    counts["empty_sessions_skipped"] = counts.get("empty_sessions_skipped", 0) + empty
    return out


def sequence_rows(path: Path, where: str, counts: dict[str, int]) -> list[tuple[int, tuple[str, ...], int | None]]:
    """(line in the file, event ids, label or None) of every non-empty session of a sequences file.

    ``.csv``: a header with a ``Sequence`` column (any case) and an optional ``label`` column
    (0/1, normal/anomaly); anything else: one session per line, event ids separated by spaces
    or commas. Empty sessions are skipped and counted.
    """
    from omniad_logs.datasets.reading import parse_label

    out: list[tuple[int, tuple[str, ...], int | None]] = []
    with path.open(newline="", encoding="utf-8", errors="replace") as f:
        if path.suffix.lower() == ".csv":
            reader = csv.reader(f)
            header = [h.strip().lstrip("\ufeff").lower() for h in next(reader, [])]
            if "sequence" not in header:
                raise DataError(f"{where}: {path.name} has no Sequence column (header {header}); a sessions CSV is "
                                "'Sequence,label' with event ids separated by spaces")
            seq = header.index("sequence")
            lab = header.index("label") if "label" in header else None
            for n, row in enumerate(reader, start=2):
                if not row or not any(c.strip() for c in row):
                    continue
                events = tuple(row[seq].replace(",", " ").split()) if seq < len(row) else ()
                label = None
                if lab is not None:
                    label = parse_label(row[lab]) if lab < len(row) else None
                    if label is None:
                        raise DataError(f"{where}: {path.name} line {n}: label {row[lab] if lab < len(row) else ''!r} "
                                        "is not 0/1 (or normal/anomaly)")
                if events:
                    out.append((n, events, label))
                else:
                    counts["empty_sessions_skipped"] = counts.get("empty_sessions_skipped", 0) + 1
            return out
        for n, line in enumerate(f, start=1):
            events = tuple(line.replace(",", " ").split())
            if events:
                out.append((n, events, None))
            else:
                counts["empty_sessions_skipped"] = counts.get("empty_sessions_skipped", 0) + 1
    return out


def read_labelled(path: Path, where: str, counts: dict[str, int]) -> tuple[list[tuple[str, ...]], np.ndarray]:
    """``Sequence,label`` rows of robust_log_train.csv (rows with an empty sequence: skipped, counted)."""
    if not path.is_file():
        raise DataError(f"{where}: {path} is missing; protocol='logrobust' needs logdeep's {ROBUST_FILE}")
    seqs: list[tuple[str, ...]] = []
    labels: list[int] = []
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not {"Sequence", "label"} <= set(reader.fieldnames or ()):
            raise DataError(f"{where}: {path.name} needs columns Sequence,label, has {reader.fieldnames}")
        for n, row in enumerate(reader, start=2):
            label = (row["label"] or "").strip()
            if label not in ("0", "1"):
                raise DataError(f"{where}: {path.name} line {n}: label {label!r} is not 0 or 1")
            events = tuple((row["Sequence"] or "").split())
            if events:
                seqs.append(events)
                labels.append(int(label))
            else:
                counts["empty_sessions_skipped"] = counts.get("empty_sessions_skipped", 0) + 1
    return seqs, np.asarray(labels, dtype=np.int8)


def read_vectors(path: Path, where: str) -> dict[str, np.ndarray] | None:
    """Event id -> float32 vector, or None when the file is absent (detectors then fall back)."""
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        vectors = {str(k): np.asarray(v, dtype=np.float32).reshape(-1) for k, v in raw.items()}
    except (ValueError, TypeError) as exc:
        raise DataError(f"{where}: {path.name} is not an event id -> vector JSON object ({exc})") from None
    dims = {v.size for v in vectors.values()}
    if len(dims) > 1:
        raise DataError(f"{where}: {path.name} mixes vector sizes {sorted(dims)}; every event needs the same size")
    return vectors


def _sample(n: int, limit: int | None, rng: np.random.Generator) -> np.ndarray:
    if limit is None or n <= limit:
        return np.arange(n)
    return np.sort(rng.choice(n, size=limit, replace=False))


def _split(n: int, fraction: float, rng: np.random.Generator, where: str) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(n)
    k = round(fraction * n)
    if k < 1 or k >= n:
        raise DataError(f"{where}: train_fraction leaves an empty split of {n} sessions; use a value nearer 0.5")
    return np.sort(order[:k]), np.sort(order[k:])


class HDFSSessions(LogDataset):
    """One subset (``hdfs_sessions``, or ``hdfs_sessions_logrobust``) from logdeep's HDFS files."""

    Params = HDFSSessionsParams

    @property
    def root(self) -> Path:
        p = self.params
        return require_path(p.root if p.root is not None else shared_data_root() / "data" / "hdfs_sessions",
                            "root", self.where, kind="folder")

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        if p.protocol == "all":
            yield self._whole()
            return
        root = self.root
        rng = np.random.default_rng(p.seed)
        vocabulary = EventVocabulary(templates={}, vectors=read_vectors(root / VECTORS_FILE, self.where))
        counts: dict[str, int] = {"empty_sessions_skipped": 0}
        if p.protocol == "deeplog":
            normal = read_sequences(root / TRAIN_FILE, self.where, counts)
            abnormal = read_sequences(root / ABNORMAL_FILE, self.where, counts)
            normal_idx = _sample(len(normal), p.max_sessions, rng)
            abnormal_idx = _sample(len(abnormal), p.max_sessions, rng)
            fit, held = _split(len(normal_idx), p.train_fraction, rng, self.where)
            train = [self._session(f"normal/{normal_idx[i]}", normal[normal_idx[i]], vocabulary) for i in fit]
            test = [self._session(f"normal/{normal_idx[i]}", normal[normal_idx[i]], vocabulary) for i in held]
            test += [self._session(f"abnormal/{i}", abnormal[i], vocabulary) for i in abnormal_idx]
            test_labels = np.r_[np.zeros(len(held), np.int8), np.ones(len(abnormal_idx), np.int8)]
            train_labels = np.zeros(len(train), np.int8)
            name = "hdfs_sessions"
            meta: dict[str, Any] = {"normal_sessions_read": len(normal_idx), "abnormal_sessions_read": len(abnormal_idx)}
        else:
            seqs, labels = read_labelled(root / ROBUST_FILE, self.where, counts)
            idx = _sample(len(seqs), p.max_sessions, rng)
            fit, held = _split(len(idx), p.train_fraction, rng, self.where)
            train = [self._session(f"robust/{idx[i]}", seqs[idx[i]], vocabulary, label=int(labels[idx[i]])) for i in fit]
            test = [self._session(f"robust/{idx[i]}", seqs[idx[i]], vocabulary) for i in held]
            train_labels, test_labels = labels[idx[fit]], labels[idx[held]]
            name = "hdfs_sessions_logrobust"
            meta = {"sessions_read": len(idx), "n_train_anomalous": int(train_labels.sum()),
                    "duplicate_sequences": len(idx) - len({seqs[i] for i in idx})}
        lengths = np.array([len(s) for s in test])
        seen = {s.events for s in train}
        meta.update({
            # the same event sequence recurs across sessions: a test session may be a copy of a training one
            "test_sessions_seen_in_train": sum(s.events in seen for s in test),
            "protocol": p.protocol, "root": str(root), "n_train": len(train), "n_test": len(test),
            "n_test_normal": int((test_labels == 0).sum()), "n_test_anomalous": int(test_labels.sum()),
            "semantic_vectors": vocabulary.vectors is not None,
            "test_length_mean": float(lengths.mean()), "test_length_max": int(lengths.max()),
            "counts": counts,
        })
        warn_counts(self.where, counts, NOTEWORTHY)
        yield Subset(
            name=name,
            train=Split(samples=train, labels=train_labels, ids=[s.id for s in train]),
            test=Split(samples=test, labels=test_labels, ids=[s.id for s in test]),
            meta=meta,
        )

    def _whole(self) -> Subset:
        """Own data: every session of ``path`` (a file or a logdeep folder), labels where the layout has them."""
        p = self.params
        path = require_path(p.path, "path", self.where) if p.path is not None else self.root
        folder = path if path.is_dir() else path.parent
        vocabulary = EventVocabulary(templates={}, vectors=read_vectors(folder / VECTORS_FILE, self.where))
        counts: dict[str, int] = {"empty_sessions_skipped": 0}
        if path.is_dir():
            parts = [(name, label) for name, label in ((TRAIN_FILE, 0), (ABNORMAL_FILE, 1)) if (path / name).is_file()]
            if not parts:
                raise DataError(f"{self.where}: {path} holds neither {TRAIN_FILE} nor {ABNORMAL_FILE}; point 'path' at "
                                "a file of sessions (one per line, or a CSV with a Sequence column)")
            rows = [(name, line, events, label) for name, label in parts
                    for line, events, _ in sequence_rows(path / name, self.where, counts)]
        else:
            rows = [(path.name, line, events, label) for line, events, label in sequence_rows(path, self.where, counts)]
        if not rows:
            raise DataError(f"{self.where}: {path} holds no session (every line is empty)")
        labelled = all(r[3] is not None for r in rows)
        if not labelled and any(r[3] is not None for r in rows):
            raise DataError(f"{self.where}: {path}: some rows have a label and some do not; label every row or none")
        sessions = [
            LogSession(id=f"{name}:{line}", events=events, vocabulary=vocabulary,
                       meta={"file": name, "line_numbers": np.full(len(events), line), "positions": True})
            for name, line, events, _ in rows
        ]
        labels = np.array([r[3] for r in rows], dtype=np.int8) if labelled else None
        warn_counts(self.where, counts, NOTEWORTHY)
        meta = {"path": str(path), "labelled": labelled, "n_sessions": len(sessions),
                "semantic_vectors": vocabulary.vectors is not None, "counts": counts}
        return whole_subset(path.name, sessions, ids=[s.id for s in sessions], labels=labels, meta=meta)

    @staticmethod
    def _session(sid: str, events: tuple[str, ...], vocabulary: EventVocabulary, label: int | None = None) -> LogSession:
        return LogSession(id=sid, events=events, vocabulary=vocabulary, meta={} if label is None else {"label": label})
