"""What every time-series dataset shares: how a series becomes a subset, and its pictures.

A subset is one series: the train split holds its prefix (one sample), the test split the
whole series (one sample) with its per-timestep labels as the localization target, as in
TSB-AD. Multi-series units (an SMD machine) follow the same shape.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from omniad.data import Split, Subset
from omniad.dataset import Dataset
from omniad.scores import Scores


def series_subset(
    name: str,
    values: np.ndarray,
    labels: np.ndarray,
    n_train: int,
    *,
    train_values: np.ndarray | None = None,
    meta: dict[str, Any] | None = None,
    severity: float | None = None,
) -> Subset:
    """A subset whose test split is ``values`` and whose train split is its first ``n_train`` steps.

    ``train_values`` replaces the prefix where the source ships a separate training series
    (SMD, UCR via aeon). Univariate series are stored as ``(T,)``, multivariate as ``(T, C)``.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    labels = np.asarray(labels, dtype=np.int8).reshape(-1)
    if train_values is None:
        train = Split(samples=[values[:n_train]], targets=[labels[:n_train]], ids=[f"{name}[:{n_train}]"])
    else:
        train_values = np.asarray(train_values, dtype=np.float64)
        if train_values.ndim == 2 and train_values.shape[1] == 1:
            train_values = train_values[:, 0]
        train = Split(samples=[train_values], ids=[f"{name}/train"])
    test = Split(
        samples=[values],
        targets=[labels],
        ids=[name],
        severity=None if severity is None else np.array([severity]),
    )
    info = {"length": len(values), "n_train": len(train.samples[0]), "anomaly_rate": float(labels.mean())}
    info.update(meta or {})
    return Subset(name=name, train=train, test=test, meta=info)


class SeriesDataset(Dataset):
    """Base of the time-series datasets: adds score plots for the HTML report."""

    def render_examples(self, subset: Subset, scores: Scores, out_dir: Path, max_examples: int = 4) -> list[Path]:
        from omniad_timeseries.datasets.plotting import render_series

        return render_series(subset, scores, Path(out_dir), max_examples=max_examples)
