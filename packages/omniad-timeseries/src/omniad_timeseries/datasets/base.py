"""What every time-series dataset shares: how a series becomes a subset, and its pictures.

A subset is one series: the train split holds its prefix (one sample), the test split the
whole series (one sample) with its per-timestep labels as the localization target, as in
TSB-AD. Multi-series units (an SMD machine) follow the same shape.

On a user's own data (``omniad score``) a series' timesteps are named by the loader's
timestamps and file rows where it kept them (``Split.meta["timestamps"]`` / ``["rows"]``, one
entry per sample), and the pictures show the flagged ranges with the element threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from omniad.data import Split, Subset
from omniad.dataset import Dataset
from omniad.scores import Scores

if TYPE_CHECKING:
    from omniad.decision import Decisions


def series_subset(
    name: str,
    values: np.ndarray,
    labels: np.ndarray | None,
    n_train: int,
    *,
    train_values: np.ndarray | None = None,
    meta: dict[str, Any] | None = None,
    severity: float | None = None,
) -> Subset:
    """A subset whose test split is ``values`` and whose train split is its first ``n_train`` steps.

    ``train_values`` replaces the prefix where the source ships a separate training series
    (SMD, UCR via aeon). Univariate series are stored as ``(T,)``, multivariate as ``(T, C)``.
    ``labels=None``: an unlabelled series (no targets; the runner skips the metrics).
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    labelled = labels is not None
    labels = np.asarray(labels if labelled else np.zeros(len(values)), dtype=np.int8).reshape(-1)
    if train_values is None:
        train = Split(samples=[values[:n_train]], targets=[labels[:n_train]] if labelled else None,
                      ids=[f"{name}[:{n_train}]"])
    else:
        train_values = np.asarray(train_values, dtype=np.float64)
        if train_values.ndim == 2 and train_values.shape[1] == 1:
            train_values = train_values[:, 0]
        train = Split(samples=[train_values], ids=[f"{name}/train"])
    test = Split(
        samples=[values],
        targets=[labels] if labelled else None,
        ids=[name],
        severity=None if severity is None else np.array([severity]),
    )
    info: dict[str, Any] = {"length": len(values), "n_train": len(train.samples[0])}
    if labelled:
        info["anomaly_rate"] = float(labels.mean())
    info.update(meta or {})
    return Subset(name=name, train=train, test=test, meta=info)


def element_names(meta: dict[str, Any], index: int, n_elements: int) -> dict[str, Sequence[Any]]:
    """Timestep names of sample ``index``: its timestamps (where the file had them) and file rows."""
    columns: dict[str, Sequence[Any]] = {}
    stamps = (meta.get("timestamps") or [None] * (index + 1))[index]
    if stamps is not None and len(stamps) == n_elements:
        columns["timestamp"] = format_timestamps(np.asarray(stamps))
    rows = (meta.get("rows") or [None] * (index + 1))[index]
    columns["row"] = np.asarray(rows).tolist() if rows is not None and len(rows) == n_elements else list(range(n_elements))
    return columns


def format_timestamps(stamps: np.ndarray) -> list[Any]:
    """Datetimes as text like the file's (``2014-02-14 14:30:00``); whole numbers as ints, others as floats."""
    if np.issubdtype(stamps.dtype, np.datetime64):
        import pandas as pd

        return pd.Series(stamps).astype(str).tolist()
    values = stamps.astype(np.float64)
    if np.all(np.mod(values, 1) == 0) and np.all(np.abs(values) < 2**53):
        return values.astype(np.int64).tolist()
    return values.tolist()


class SeriesDataset(Dataset):
    """Base of the time-series datasets: score plots for the HTML report, timestep names and decision plots."""

    def render_examples(self, subset: Subset, scores: Scores, out_dir: Path, max_examples: int = 4) -> list[Path]:
        from omniad_timeseries.datasets.plotting import render_series

        return render_series(subset, scores, Path(out_dir), max_examples=max_examples)

    def element_columns(self, split: Split, index: int, n_elements: int) -> dict[str, Sequence[Any]] | None:
        """A series' elements are its timesteps: their timestamp where the file has one, and their row in it."""
        return element_names(split.meta, index, n_elements)

    def render_results(self, split: Split, decisions: Decisions, out_dir: Path, max_items: int = 8) -> list[Path]:
        from omniad_timeseries.datasets.plotting import render_decisions

        return render_decisions(split, decisions, Path(out_dir), max_items=max_items)
