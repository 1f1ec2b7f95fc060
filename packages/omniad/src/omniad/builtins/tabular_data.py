"""Built-in feature-vector datasets: a synthetic generator (demo, tests) and a CSV loader."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from pydantic import Field, field_validator

from omniad.data import Split, Subset
from omniad.dataset import Dataset
from omniad.errors import DataError
from omniad.params import Params


class BlobsParams(Params):
    n_train: int = Field(default=400, ge=2)
    n_test_normal: int = Field(default=200, ge=1)
    n_test_anomalous: int = Field(default=40, ge=1)
    n_features: int = Field(default=8, ge=1)
    n_clusters: int = Field(default=3, ge=1)
    anomaly: str = Field(default="local", description="scatter | shifted | local (hardest: just off a cluster)")
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
            anomalies = centers[rng.integers(0, p.n_clusters, size=k)] + direction * rng.uniform(3, 6, size=(k, 1))
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
    path: Path = Field(description="CSV file with one row per sample")
    label_column: str = "label"
    train_fraction: float = Field(default=0.5, gt=0, lt=1, description="of the normal rows")
    seed: int = 0


class CSVTable(Dataset):
    """Numeric feature table with a 0/1 label column; normals are split into train and test."""

    Params = CSVTableParams

    def iter_subsets(self) -> Iterator[Subset]:
        import csv

        p = self.params
        if not p.path.is_file():
            raise DataError(f"{self.where}: file {p.path} does not exist; check the 'path' parameter")
        with p.path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        if not rows:
            raise DataError(f"{self.where}: {p.path} has no data rows")
        if p.label_column not in rows[0]:
            raise DataError(
                f"{self.where}: {p.path} has no column {p.label_column!r} (columns: {list(rows[0])}); "
                "set 'label_column'"
            )
        features = [c for c in rows[0] if c != p.label_column]
        try:
            x = np.array([[float(r[c]) for c in features] for r in rows])
            y = np.array([int(float(r[p.label_column])) for r in rows])
        except ValueError as exc:
            raise DataError(f"{self.where}: {p.path} has a non-numeric value ({exc}); encode it first") from None
        normal = np.flatnonzero(y == 0)
        rng = np.random.default_rng(p.seed)
        rng.shuffle(normal)
        n_train = max(1, int(len(normal) * p.train_fraction))
        test_idx = np.sort(np.r_[normal[n_train:], np.flatnonzero(y != 0)])
        yield Subset(
            name=p.path.stem,
            train=Split(samples=x[normal[:n_train]]),
            test=Split(samples=x[test_idx], labels=y[test_idx], ids=[f"row-{i}" for i in test_idx]),
        )
