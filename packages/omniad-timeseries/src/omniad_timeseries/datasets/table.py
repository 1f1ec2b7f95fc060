"""CSV/parquet series, one row per timestep: numeric channels, an optional 0/1 label column, optional times.

Two modes (``split``):

- ``prefix`` (the benchmark protocol): one subset per file, train = the file's prefix by the
  ``train`` rule, test = the whole series with its per-row labels.
- ``all`` (own data, what ``omniad fit / score / detect`` open a bare path with): the file, or
  every CSV/parquet file of a folder, is one subset whose test split holds every series,
  named by its file (path relative to the folder); train = the series themselves, or, where
  rows are labelled, the stretches between labelled anomalies (at least ``min_segment`` long).

Labels are optional in both: without the default ``label`` column a file is unlabelled (the
runner and ``omniad score`` skip the metrics and say so); a label column named explicitly
that is missing, or one holding anything but 0/1, is an error. Timestamps name the timesteps
in the results: a named column, ``"auto"`` (``reading.find_timestamp_column``: by name, else the
first text column of dates) or none (rows are named by number). The channels a model was
fitted on are exported with it (``export_source_state``), so a new file is read with the same
columns in the same order, whatever else it holds.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omniad.data import Split, Subset
from omniad.errors import DataError
from omniad.sources import check_fitted_columns
from omniad_timeseries.datasets.base import SeriesDataset, series_subset
from omniad_timeseries.datasets.params import TableParams
from omniad_timeseries.datasets.reading import (
    SeriesTable,
    binary_labels,
    clean,
    find_timestamp_column,
    numeric_matrix,
    parse_timestamps,
    read_table,
)
from omniad_timeseries.datasets.splits import train_length

SUFFIXES = (".csv", ".parquet", ".pq")
DEFAULT_LABEL = "label"


@dataclass
class FileSeries:
    """One file read: the cleaned series, whether it had labels, its time column and what cleaning did."""

    table: SeriesTable
    labelled: bool
    timestamp_column: str | None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def values(self) -> np.ndarray:
        """``(T,)`` for one channel, ``(T, C)`` otherwise (the package's convention)."""
        v = self.table.values
        return v[:, 0] if v.shape[1] == 1 else v


def normal_stretches(labels: np.ndarray, min_length: int) -> tuple[list[tuple[int, int]], int]:
    """Half-open runs of label 0 at least ``min_length`` long, and the timesteps in shorter ones."""
    padded = np.r_[1, (np.asarray(labels) > 0).astype(np.int8), 1]
    edges = np.flatnonzero(np.diff(padded))
    runs = list(zip(edges[::2].tolist(), edges[1::2].tolist()))
    kept = [(a, b) for a, b in runs if b - a >= min_length]
    return kept, sum(b - a for a, b in runs if b - a < min_length)


def _add(counts: dict[str, int], more: dict[str, int]) -> None:
    for key, value in more.items():
        counts[key] = counts.get(key, 0) + int(value)


class Table(SeriesDataset):
    """CSV/parquet series: one subset per file (``split="prefix"``) or the whole file/folder (``split="all"``)."""

    Params = TableParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.params.split == "all":
            self.require_anomalies = False  # own data: a file without anomalies is still scored
        self._channels: list[str] | None = None  # the fit data's channels, from import_source_state
        self._found: list[str] | None = None  # the channels reading found, for export_source_state

    # -- files ---------------------------------------------------------------------------
    def _listing(self) -> tuple[list[Path], list[Path]]:
        path = self.params.path
        if path.is_file():
            return [path], []
        if not path.is_dir():
            raise DataError(f"{self.where}: {path} does not exist; check the 'path' parameter")
        matches = sorted(p for p in path.glob(self.params.pattern) if p.is_file())
        files = [p for p in matches if p.suffix.lower() in SUFFIXES]
        if not files:
            raise DataError(f"{self.where}: no CSV/parquet files matching {self.params.pattern!r} in {path}")
        return files, [p for p in matches if p.suffix.lower() not in SUFFIXES]

    def files(self) -> list[Path]:
        return self._listing()[0]

    # -- one file ------------------------------------------------------------------------
    def _columns(self, frame: pd.DataFrame, where: str) -> tuple[str | None, str | None, list[str]]:
        """Label column (None = unlabelled), time column and channels of one file."""
        p = self.params
        columns = [str(c) for c in frame.columns]
        label = p.label_column
        if label is not None and label not in columns:
            if label != DEFAULT_LABEL:
                raise DataError(f"{where}: no label column {label!r} (columns: {columns}); set 'label_column' "
                                "(or None for unlabelled data)")
            label = None
        stamp = p.timestamp_column
        if stamp == "auto":
            stamp = find_timestamp_column(frame, skip={label} if label else ())
        elif stamp is not None and stamp not in columns:
            raise DataError(f"{where}: no timestamp column {stamp!r} (columns: {columns})")
        if self._channels is not None:  # a model's fit data fixed them
            check_fitted_columns(columns, self._channels, (label, stamp), where, "channels")
            return label, stamp, list(self._channels)
        if p.value_columns is not None:
            return label, stamp, list(p.value_columns)
        return label, stamp, [c for c in columns if c not in (label, stamp)]

    def read(self, path: Path, where: str) -> FileSeries:
        """One file as a cleaned series, with the repairs cleaning made counted."""
        p = self.params
        frame = read_table(path, where)
        frame.columns = [str(c) for c in frame.columns]
        label, stamp, channels = self._columns(frame, where)
        values = numeric_matrix(frame, channels, where)
        labels = binary_labels(frame[label], where) if label else np.zeros(len(frame), dtype=np.int8)
        stamps = parse_timestamps(frame[stamp], where) if stamp else None
        gaps = int(np.count_nonzero(np.isnan(values).any(axis=1)))
        backwards = int(np.count_nonzero(stamps[1:] < stamps[:-1])) if stamps is not None else 0
        table = clean(SeriesTable(values, labels, stamps, tuple(channels)), order=p.order, missing=p.missing,
                      where=where)
        counts = {}
        if gaps:  # reject raised already
            counts["rows_interpolated" if p.missing == "interpolate" else "rows_dropped_missing"] = gaps
        if backwards:
            counts["rows_sorted_by_time" if p.order == "sort" else "timestamps_backwards"] = backwards
        self._found = list(channels)
        return FileSeries(table, label is not None, stamp, counts)

    # -- subsets -------------------------------------------------------------------------
    def iter_subsets(self) -> Iterator[Subset]:
        if self.params.split == "all":
            yield self._everything()
            return
        p = self.params
        for path in self.files():
            where = f"{self.where}: {path.name}"
            series = self.read(path, where)
            labels = series.table.labels
            if p.train_rows is not None:
                if p.train_rows >= len(labels):
                    raise DataError(f"{where}: train_rows={p.train_rows} but the series has {len(labels)} rows")
                n_train = p.train_rows
            else:
                n_train = train_length(p.train, labels, p.train_fraction)
            yield series_subset(
                path.stem, series.values, labels if series.labelled else None, n_train,
                meta={"path": str(path), "channels": list(series.table.channels),
                      "train_rule": p.train if p.train_rows is None else "rows", "counts": series.counts},
            )

    def _everything(self) -> Subset:
        """Every series of the file or folder in one subset (own data): test = all, train = the unlabelled parts."""
        p = self.params
        files, skipped = self._listing()
        folder = p.path if p.path.is_dir() else None
        names = [f.relative_to(folder).as_posix() if folder else f.name for f in files]
        counts: dict[str, int] = {}
        if skipped:
            counts["files_not_csv_or_parquet"] = len(skipped)
            shown = ", ".join(f.name for f in skipped[:5]) + (", ..." if len(skipped) > 5 else "")
            warnings.warn(f"{self.where}: {len(skipped)} file(s) in {p.path} are not CSV/parquet, skipped: {shown}",
                          stacklevel=2)
        read = []
        for file, name in zip(files, names, strict=True):
            series = self.read(file, f"{self.where}: {name}")
            if read and series.table.channels != read[0].table.channels:
                raise DataError(f"{self.where}: {name} has channels {list(series.table.channels)} but {names[0]} has "
                                f"{list(read[0].table.channels)}; give every file the same columns, or set "
                                "'value_columns'")
            if read and series.labelled != read[0].labelled:
                has, lacks = (name, names[0]) if series.labelled else (names[0], name)
                raise DataError(f"{self.where}: {has} has a {p.label_column!r} column but {lacks} has none; "
                                "label every file or none")
            _add(counts, series.counts)
            read.append(series)
        labelled = read[0].labelled
        meta = {"timestamps": [s.table.timestamps for s in read], "rows": [s.table.rows for s in read],
                "channels": list(read[0].table.channels)}
        test = Split(samples=[s.values for s in read], targets=[s.table.labels for s in read] if labelled else None,
                     ids=names, meta=meta)
        train = test.without_labels() if not labelled else self._normal_parts(read, names, counts)
        info = {"path": str(p.path), "files": len(read), "channels": meta["channels"],
                "timestamp_columns": sorted({s.timestamp_column or "" for s in read} - {""}), "counts": counts}
        return Subset(name=folder.name if folder else p.path.stem, train=train, test=test, meta=info)

    def _normal_parts(self, read: list[FileSeries], names: list[str], counts: dict[str, int]) -> Split:
        """The stretches between labelled anomalies, each a training series; the left-out timesteps counted."""
        samples, ids = [], []
        for series, name in zip(read, names, strict=True):
            labels = series.table.labels
            kept, short = normal_stretches(labels, self.params.min_segment)
            _add(counts, {"train_timesteps_labelled_anomalous": int(labels.sum()),
                          "train_timesteps_in_short_normal_stretches": short})
            for a, b in kept:
                samples.append(series.values[a:b])
                ids.append(name if (a, b) == (0, len(labels)) else f"{name}[{a}:{b}]")
        if not samples:
            raise DataError(f"{self.where}: no stretch of at least {self.params.min_segment} timesteps without labelled "
                            "anomalies to fit on; lower 'min_segment' (-s min_segment=N) or give more normal data")
        return Split(samples=samples, ids=ids)

    # -- live data -------------------------------------------------------------------------
    def watcher(self, detector: Any, options: dict[str, Any], say: Any) -> Any:
        """A live scorer of CSV rows / JSON lines with the model's channels and thresholds (``omniad watch``)."""
        from omniad_timeseries.watch import SeriesStreamer

        return SeriesStreamer(self, detector, options, say)

    # -- what a model keeps of how its data was read ----------------------------------------
    def export_source_state(self) -> dict[str, Any] | None:
        """The channels the fit data was read with, so new files are read with the same ones."""
        return None if self._found is None else {"channels": list(self._found)}

    def import_source_state(self, state: dict[str, Any]) -> None:
        channels = state.get("channels") if isinstance(state, dict) else None
        if not isinstance(channels, list) or not channels or not all(isinstance(c, str) for c in channels):
            raise DataError(f"{self.where}: the model's saved source state {state!r} does not name its channels "
                            "(a list of column names); refit the model")
        self._channels = list(channels)
