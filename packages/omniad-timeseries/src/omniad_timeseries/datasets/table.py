"""Any CSV/parquet table with one row per timestep, numeric channels and a 0/1 label column."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from omniad.data import Subset
from omniad.errors import DataError
from omniad_timeseries.datasets.base import SeriesDataset, series_subset
from omniad_timeseries.datasets.params import TableParams
from omniad_timeseries.datasets.reading import (
    SeriesTable,
    binary_labels,
    clean,
    numeric_matrix,
    parse_timestamps,
    read_table,
)
from omniad_timeseries.datasets.splits import train_length

SUFFIXES = (".csv", ".parquet", ".pq")


class Table(SeriesDataset):
    """One subset per file; train prefix by ``train_rows`` or the ``train`` rule."""

    Params = TableParams

    def files(self) -> list[Path]:
        path = self.params.path
        if path.is_file():
            return [path]
        if not path.is_dir():
            raise DataError(f"{self.where}: {path} does not exist; check the 'path' parameter")
        files = sorted(p for p in path.glob(self.params.pattern) if p.is_file() and p.suffix.lower() in SUFFIXES)
        if not files:
            raise DataError(f"{self.where}: no CSV/parquet files matching {self.params.pattern!r} in {path}")
        return files

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        for path in self.files():
            where = f"{self.where}: {path.name}"
            frame = read_table(path, where)
            if p.label_column not in frame.columns:
                raise DataError(
                    f"{where}: no label column {p.label_column!r} (columns: {list(frame.columns)}); set 'label_column'"
                )
            if p.timestamp_column is not None and p.timestamp_column not in frame.columns:
                raise DataError(f"{where}: no timestamp column {p.timestamp_column!r} (columns: {list(frame.columns)})")
            skip = {p.label_column, p.timestamp_column}
            channels = p.value_columns or [c for c in frame.columns if c not in skip]
            ts = parse_timestamps(frame[p.timestamp_column], where) if p.timestamp_column else None
            table = SeriesTable(
                numeric_matrix(frame, list(channels), where), binary_labels(frame[p.label_column], where), ts,
                tuple(channels),
            )
            table = clean(table, order=p.order, missing=p.missing, where=where)
            if p.train_rows is not None:
                if p.train_rows >= len(table.values):
                    raise DataError(f"{where}: train_rows={p.train_rows} but the series has {len(table.values)} rows")
                n_train = p.train_rows
            else:
                n_train = train_length(p.train, table.labels, p.train_fraction)
            yield series_subset(
                path.stem, table.values, table.labels, n_train,
                meta={"path": str(path), "channels": list(channels), "train_rule": p.train if p.train_rows is None else "rows"},
            )
