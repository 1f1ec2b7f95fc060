"""Built-in feature-vector datasets: a synthetic generator (demo, tests) and a CSV loader."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from omniad.data import Split, Subset, whole_subset
from omniad.dataset import Dataset
from omniad.errors import DataError
from omniad.npyfiles import load_npy
from omniad.params import Params


class BlobsParams(Params):
    n_train: int = Field(default=400, ge=2)
    n_test_normal: int = Field(default=200, ge=1)
    n_test_anomalous: int = Field(default=40, ge=1)
    n_features: int = Field(default=8, ge=1)
    n_clusters: int = Field(default=3, ge=1)
    anomaly: str = Field(
        default="local", description="scatter | shifted | local (hardest: just off a cluster)"
    )
    seed: int = 0

    @field_validator("anomaly")
    @classmethod
    def _check_anomaly(cls, value: str) -> str:
        if value not in {"scatter", "shifted", "local"}:
            raise ValueError("anomaly must be 'scatter', 'shifted' or 'local'")
        return value


class Blobs(Dataset):
    """Gaussian clusters of normal points; anomalies scattered, shifted, or just off a cluster.

    Severity levels follow distance from the normal clusters, so severity metrics have
    something to measure.
    """

    Params = BlobsParams

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        rng = np.random.default_rng(p.seed)
        centers = rng.normal(0, 6, size=(p.n_clusters, p.n_features))

        def normal(n: int) -> np.ndarray:
            idx = rng.integers(0, p.n_clusters, size=n)
            noise: np.ndarray = rng.normal(0, 1, size=(n, p.n_features))
            return np.asarray(centers[idx] + noise)

        train = normal(p.n_train)
        test_normal = normal(p.n_test_normal)
        k = p.n_test_anomalous
        if p.anomaly == "scatter":
            lo, hi = centers.min() - 8, centers.max() + 8
            anomalies = rng.uniform(lo, hi, size=(k, p.n_features))
        elif p.anomaly == "shifted":
            anomalies = normal(k) + rng.choice([-1, 1], size=(k, p.n_features)) * 4.0
        else:
            direction = rng.normal(size=(k, p.n_features))
            direction /= np.linalg.norm(direction, axis=1, keepdims=True)
            anomalies = centers[rng.integers(0, p.n_clusters, size=k)] + direction * rng.uniform(
                3, 6, size=(k, 1)
            )
        dist = np.min(np.linalg.norm(anomalies[:, None, :] - centers[None], axis=2), axis=1)
        severity = 1 + np.digitize(dist, np.quantile(dist, [1 / 3, 2 / 3]))
        x = np.vstack([test_normal, anomalies])
        labels = np.r_[np.zeros(len(test_normal)), np.ones(k)].astype(np.int8)
        order = rng.permutation(len(x))
        test = Split(
            samples=x[order],
            labels=labels[order],
            severity=np.r_[np.zeros(len(test_normal)), severity][order],
            ids=[f"test-{i}" for i in range(len(x))],
        )
        yield Subset(name=f"blobs-{p.anomaly}", train=Split(samples=train), test=test)


class CSVTableParams(Params):
    path: Path = Field(description="CSV file (or .npy array) with one row per sample")
    label_column: str | None = Field(
        default="label",
        description="0/1 label column; a file without it (or None) is unlabelled own data: metrics are skipped",
    )
    split: Literal["random", "all"] = Field(
        default="random",
        description="random: a share of the normal rows trains, the rest and the anomalies test; all: every row is "
        "scored and the rows not labelled anomalous train (what `omniad fit / score` use)",
    )
    train_fraction: float = Field(
        default=0.5, gt=0, lt=1, description="of the normal rows, with split = random"
    )
    seed: int = 0


class CSVTable(Dataset):
    """Numeric feature table, labelled or not; rows are named by their number in the file."""

    Params = CSVTableParams

    def _read(self) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
        import csv

        p = self.params
        if not p.path.is_file():
            raise DataError(f"{self.where}: file {p.path} does not exist; check the 'path' parameter")
        if p.path.suffix.lower() == ".npy":
            x = load_npy(p.path, what="feature table (one row per sample)", where=self.where)
            if x.ndim != 2 or x.dtype.kind not in "biuf":
                raise DataError(
                    f"{self.where}: {p.path} holds a {x.dtype} array of shape {x.shape}; "
                    "expected numbers, one row per sample"
                )
            return x.astype(np.float64), None, []
        try:
            with p.path.open(newline="", encoding="utf-8") as fh:
                rows = list(csv.DictReader(fh))
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{self.where}: {p.path} is not UTF-8 text ({exc.reason} at byte {exc.start})"
            ) from None
        if not rows:
            raise DataError(f"{self.where}: {p.path} has no data rows")
        columns = list(rows[0])
        labelled = p.label_column is not None and p.label_column in columns
        if p.label_column is not None and not labelled and p.label_column != "label":
            raise DataError(
                f"{self.where}: {p.path} has no column {p.label_column!r} (columns: {columns}); "
                "set 'label_column' (or null for unlabelled data)"
            )
        features = [c for c in columns if not (labelled and c == p.label_column)]
        try:
            x = np.array([[float(r[c]) for c in features] for r in rows])
            y = np.array([int(float(r[p.label_column])) for r in rows]) if labelled else None
        except (ValueError, TypeError) as exc:
            raise DataError(
                f"{self.where}: {p.path} has a non-numeric value ({exc}); encode it first"
            ) from None
        return x, y, features

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        x, y, _ = self._read()
        ids = [f"row-{i}" for i in range(len(x))]
        if p.split == "all":
            yield whole_subset(p.path.stem, x, ids=ids, labels=y)
            return
        if y is None:
            raise DataError(
                f"{self.where}: {p.path} has no label column {p.label_column!r}, so split='random' "
                "cannot build a labelled test split; use split='all' (or `omniad fit / score`)"
            )
        normal = np.flatnonzero(y == 0)
        rng = np.random.default_rng(p.seed)
        rng.shuffle(normal)
        n_train = max(1, int(len(normal) * p.train_fraction))
        test_idx = np.sort(np.r_[normal[n_train:], np.flatnonzero(y != 0)])
        yield Subset(
            name=p.path.stem,
            train=Split(samples=x[normal[:n_train]]),
            test=Split(samples=x[test_idx], labels=y[test_idx], ids=[ids[i] for i in test_idx]),
        )
