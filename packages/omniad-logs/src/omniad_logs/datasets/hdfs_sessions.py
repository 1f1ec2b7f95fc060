"""logdeep's preprocessed HDFS: block sessions already parsed to event-id sequences.

The files (``/work/shared/data/hdfs_sessions``, from logdeep) are ``hdfs_train`` (4,855 normal
sessions, one space-separated event-id sequence per line), ``hdfs_test_abnormal`` (16,838
anomalous sessions), ``robust_log_train.csv`` (``Sequence,label``, 6,000 normal + 6,000
anomalous, LogRobust's training set) and ``event2semantic_vec.json`` (event id -> 300-d
semantic vector), which becomes ``EventVocabulary.vectors``. There is no template text, so
the vocabulary's templates are empty and an event's "template" is its id.

logdeep tests on a 553k-session ``hdfs_test_normal`` file that is not part of this copy, so
by default the ``deeplog`` protocol splits ``hdfs_train`` by a seeded ``train_fraction`` into fit
and normal-test sessions. The test split is then mostly anomalous (about 2.4k normal against
16.8k anomalous at the default 0.5), which flatters precision: report the counts
(``Subset.meta``) with any F1. Where logdeep's full folder is at hand, ``normal_test_file``
names ``hdfs_test_normal`` and the protocol is logdeep's own (fit on all of ``hdfs_train``);
``robust_test_file`` does the same for ``robust_log_test.csv`` (or ``robust_log_valid.csv``).
Every file has a parameter (``train_file``, ``abnormal_file``, ``robust_file``,
``vectors_file``; defaults: logdeep's names), a name inside ``root`` or a path of its own.

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
from omniad.errors import ConfigError, DataError
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


#: what each file parameter holds, for the error naming a missing one
_HOLDS = {
    "train_file": "normal sessions, one event-id sequence per line (logdeep's hdfs_train)",
    "abnormal_file": "anomalous sessions, one event-id sequence per line (logdeep's hdfs_test_abnormal)",
    "normal_test_file": "normal test sessions, one event-id sequence per line (logdeep's hdfs_test_normal)",
    "robust_file": "a 'Sequence,label' CSV (logdeep's robust_log_train.csv)",
    "robust_test_file": "a 'Sequence,label' CSV (logdeep's robust_log_test.csv or robust_log_valid.csv)",
    "vectors_file": "an event id -> vector JSON (logdeep's event2semantic_vec.json)",
}


class HDFSSessions(LogDataset):
    """One subset (``hdfs_sessions``, or ``hdfs_sessions_logrobust``) from logdeep's HDFS files."""

    Params = HDFSSessionsParams

    @property
    def root_dir(self) -> Path:
        """``root`` as set, else the shared copy (not checked: a file given as an absolute path needs no root)."""
        p = self.params
        return p.root if p.root is not None else shared_data_root() / "data" / "hdfs_sessions"

    @property
    def root(self) -> Path:
        return require_path(self.root_dir, "root", self.where, kind="folder")

    def file(self, param: str, folder: Path | None = None) -> Path | None:
        """The file a file parameter names: inside ``folder`` (default ``root``), else as given; None if unset.

        A missing file is a ``ConfigError`` naming the parameter, where it was looked for and what
        it should hold. ``vectors_file`` left unset is logdeep's file where the folder has it, else None.
        """
        value = getattr(self.params, param)
        if value is None and param == "vectors_file":
            default = (self.root if folder is None else folder) / VECTORS_FILE
            return default if default.is_file() else None
        if value is None:
            return None
        value = Path(value).expanduser()
        # a default name is looked for in the folder only; a name you give also as a path of its own
        given = value != type(self.params).model_fields[param].default
        if value.is_absolute():
            candidates = [value]
        else:
            candidates = list(dict.fromkeys(((self.root if folder is None else folder) / value,
                                             *((value,) if given else ()))))
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        tried = " nor ".join(str(c) for c in candidates)
        raise ConfigError(f"{self.where}: {param}={str(value)!r} is not a file (looked for {tried}); point "
                          f"{param!r} at {_HOLDS[param]}, as a name inside root or a path, or set 'root'")

    def need(self, param: str) -> Path:
        """``file`` of a parameter that always names one (its default is logdeep's name)."""
        path = self.file(param)
        assert path is not None, param
        return path

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        if p.protocol == "all":
            yield self._whole()
            return
        rng = np.random.default_rng(p.seed)
        vectors = self.file("vectors_file")
        vocabulary = EventVocabulary(templates={}, vectors=None if vectors is None else read_vectors(vectors, self.where))
        counts: dict[str, int] = {"empty_sessions_skipped": 0}
        paths: dict[str, Path | None]
        if p.protocol == "deeplog":
            paths = {"train_file": self.need("train_file"), "abnormal_file": self.need("abnormal_file"),
                     "normal_test_file": self.file("normal_test_file")}
            normal = read_sequences(paths["train_file"], self.where, counts)
            abnormal = read_sequences(paths["abnormal_file"], self.where, counts)
            normal_idx = _sample(len(normal), p.max_sessions, rng)
            abnormal_idx = _sample(len(abnormal), p.max_sessions, rng)
            if paths["normal_test_file"] is None:
                fit, held = _split(len(normal_idx), p.train_fraction, rng, self.where)
                train = [self._session(f"normal/{normal_idx[i]}", normal[normal_idx[i]], vocabulary) for i in fit]
                test = [self._session(f"normal/{normal_idx[i]}", normal[normal_idx[i]], vocabulary) for i in held]
                n_normal_test = len(held)
            else:  # logdeep's own protocol: every training session is fitted on
                held_out = read_sequences(paths["normal_test_file"], self.where, counts)
                held_idx = _sample(len(held_out), p.max_sessions, rng)
                train = [self._session(f"normal/{i}", normal[i], vocabulary) for i in normal_idx]
                test = [self._session(f"test_normal/{i}", held_out[i], vocabulary) for i in held_idx]
                n_normal_test = len(held_idx)
            test += [self._session(f"abnormal/{i}", abnormal[i], vocabulary) for i in abnormal_idx]
            test_labels = np.r_[np.zeros(n_normal_test, np.int8), np.ones(len(abnormal_idx), np.int8)]
            train_labels = np.zeros(len(train), np.int8)
            name = "hdfs_sessions"
            meta: dict[str, Any] = {"normal_sessions_read": len(normal_idx), "abnormal_sessions_read": len(abnormal_idx)}
        else:
            paths = {"robust_file": self.need("robust_file"), "robust_test_file": self.file("robust_test_file")}
            seqs, labels = read_labelled(paths["robust_file"], self.where, counts)
            idx = _sample(len(seqs), p.max_sessions, rng)
            meta = {"sessions_read": len(idx), "duplicate_sequences": len(idx) - len({seqs[i] for i in idx})}
            if paths["robust_test_file"] is None:
                fit, held = _split(len(idx), p.train_fraction, rng, self.where)
                train = [self._session(f"robust/{idx[i]}", seqs[idx[i]], vocabulary, label=int(labels[idx[i]]))
                         for i in fit]
                test = [self._session(f"robust/{idx[i]}", seqs[idx[i]], vocabulary) for i in held]
                train_labels, test_labels = labels[idx[fit]], labels[idx[held]]
            else:  # logdeep's own protocol: all of the training file trains, the test file tests
                test_seqs, test_all = read_labelled(paths["robust_test_file"], self.where, counts)
                test_idx = _sample(len(test_seqs), p.max_sessions, rng)
                train = [self._session(f"robust/{i}", seqs[i], vocabulary, label=int(labels[i])) for i in idx]
                test = [self._session(f"robust_test/{i}", test_seqs[i], vocabulary) for i in test_idx]
                train_labels, test_labels = labels[idx], test_all[test_idx]
                meta["test_sessions_read"] = len(test_idx)
            name = "hdfs_sessions_logrobust"
            meta["n_train_anomalous"] = int(train_labels.sum())
        files = {k: str(v) for k, v in paths.items() if v is not None}
        if vectors is not None:
            files["vectors_file"] = str(vectors)
        lengths = np.array([len(s) for s in test])
        seen = {s.events for s in train}
        meta.update({
            # the same event sequence recurs across sessions: a test session may be a copy of a training one
            "test_sessions_seen_in_train": sum(s.events in seen for s in test),
            "protocol": p.protocol, "root": str(self.root_dir), "files": files, "n_train": len(train), "n_test": len(test),
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
        vectors = self.file("vectors_file", folder)
        vocabulary = EventVocabulary(templates={}, vectors=None if vectors is None else read_vectors(vectors, self.where))
        counts: dict[str, int] = {"empty_sessions_skipped": 0}
        if path.is_dir():
            parts = [(path / Path(name), label) for name, label in ((p.train_file, 0), (p.abnormal_file, 1))
                     if (path / Path(name)).is_file()]
            if not parts:
                raise DataError(f"{self.where}: {path} holds neither {p.train_file} nor {p.abnormal_file}; point "
                                "'path' at a file of sessions (one per line, or a CSV with a Sequence column)")
            rows = [(file.name, line, events, label) for file, label in parts
                    for line, events, _ in sequence_rows(file, self.where, counts)]
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
