"""The Numenta Anomaly Benchmark in its own layout: ``data/<category>/<series>.csv`` + label windows.

A timestep is anomalous when its timestamp lies inside one of the series' windows in
``labels/combined_windows.json`` (both ends included, NAB's convention). Rows stay in file
order by default, duplicate timestamps and timestamps that go backwards included (NAB and
TSB-AD score them that way; one real file has a backwards step), because a benchmark loader
must load every file as its authors score it; each label comes from its own row's timestamp,
so labels stay with their rows whatever the order. Series without any window carry no
detection signal and are skipped unless ``include_unlabelled``.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from omniad.data import Subset
from omniad.errors import DataError
from omniad_timeseries.datasets.base import SeriesDataset, series_subset
from omniad_timeseries.datasets.params import NABParams
from omniad_timeseries.datasets.reading import (
    SeriesTable,
    clean,
    numeric_matrix,
    parse_timestamps,
    read_table,
    shared_data_root,
)
from omniad_timeseries.datasets.splits import train_length


def labels_from_windows(timestamps: np.ndarray, windows: list[list[str]], where: str) -> np.ndarray:
    """1 where ``start <= t <= end`` for some window."""
    labels = np.zeros(len(timestamps), dtype=np.int8)
    for window in windows:
        try:
            start, end = (np.datetime64(pd.Timestamp(w)) for w in window)
        except (ValueError, TypeError):
            raise DataError(f"{where}: bad label window {window!r}; expected [start, end] timestamps") from None
        labels[(timestamps >= start) & (timestamps <= end)] = 1
    return labels


class NAB(SeriesDataset):
    """NAB series, one subset each; train prefix by ``train`` rule (TSB-AD's by default)."""

    Params = NABParams

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if self.params.include_unlabelled:
            self.require_anomalies = False

    @property
    def root(self) -> Path:
        return self.params.root if self.params.root is not None else shared_data_root() / "data" / "nab"

    def _windows(self) -> dict[str, list[list[str]]]:
        path = self.root / self.params.labels_file
        if not path.is_file():
            raise DataError(
                f"{self.where}: NAB labels not found at {path}; set 'root' to a NAB checkout "
                f"(with data/ and labels/) or set OMNIAD_SHARED_DATA"
            )
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise DataError(f"{self.where}: {path} is not valid JSON ({exc})") from None

    def files(self) -> list[tuple[str, Path]]:
        """``(key, path)`` of the selected series, key = ``category/file.csv`` as in the labels."""
        data = self.root / "data"
        if not data.is_dir():
            raise DataError(f"{self.where}: no NAB data folder at {data}; set 'root' or OMNIAD_SHARED_DATA")
        categories = sorted(p.name for p in data.iterdir() if p.is_dir())
        wanted = self.params.categories
        if wanted is not None:
            unknown = sorted(set(wanted) - set(categories))
            if unknown:
                raise DataError(f"{self.where}: unknown NAB categories {unknown}; available: {categories}")
            categories = [c for c in categories if c in wanted]
        out = [(f"{c}/{p.name}", p) for c in categories for p in sorted((data / c).glob("*.csv"))]
        if self.params.series is not None:
            out = [(k, p) for k, p in out if any(_matches(k, pat) for pat in self.params.series)]
            if not out:
                raise DataError(f"{self.where}: no NAB series matches {self.params.series}")
        return out

    def iter_subsets(self) -> Iterator[Subset]:
        windows = self._windows()
        p = self.params
        for key, path in self.files():
            where = f"{self.where}: {key}"
            if key not in windows:
                raise DataError(f"{where}: series missing from {p.labels_file}; is the labels file from this NAB version?")
            if not windows[key] and not p.include_unlabelled:
                continue
            frame = read_table(path, where)
            for column in ("timestamp", "value"):
                if column not in frame.columns:
                    raise DataError(f"{where}: no {column!r} column (columns: {list(frame.columns)})")
            ts = parse_timestamps(frame["timestamp"], where)
            backwards = int(np.count_nonzero(ts[1:] < ts[:-1]))
            table = SeriesTable(
                values=numeric_matrix(frame, ["value"], where),
                labels=labels_from_windows(ts, windows[key], where),
                timestamps=ts,
                channels=("value",),
            )
            table = clean(table, order=p.order, missing=p.missing, where=where)
            n_train = train_length(p.train, table.labels, p.train_fraction)
            category, _, file = key.partition("/")
            yield series_subset(
                f"{category}/{Path(file).stem}",
                table.values,
                table.labels,
                n_train,
                meta={"category": category, "path": str(path), "train_rule": p.train,
                      "timestamps_backwards": backwards, "order": p.order},
            )


def _matches(key: str, pattern: str) -> bool:
    """A pattern may name ``category/file.csv``, ``file.csv`` or ``file``, with glob wildcards."""
    file = key.split("/", 1)[1]
    candidates = (key, file, Path(file).stem, key.removesuffix(".csv"))
    return any(fnmatch.fnmatchcase(c, pattern) for c in candidates)
