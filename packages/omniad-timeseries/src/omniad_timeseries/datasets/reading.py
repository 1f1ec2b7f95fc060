"""Reading series from files: one place for the rules on bad columns, gaps and time order.

Every loader funnels its table through these helpers, so a non-numeric column, a label
column with a 2 in it, a missing value or a timestamp that goes backwards fails (or is
repaired) the same way everywhere, with the file and row named.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omniad.errors import DataError
from omniad.shared import SHARED_ENV, shared_data_root  # noqa: F401  (re-exported for the loaders)


def read_table(path: Path, where: str) -> pd.DataFrame:
    """A CSV or parquet file as a DataFrame (parquet needs pyarrow)."""
    if not path.is_file():
        raise DataError(f"{where}: file {path} does not exist; check the 'path' parameter")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except ImportError as exc:
        raise DataError(f"{where}: cannot read {path.name} ({exc}); pip install pyarrow for parquet files") from None
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{where}: cannot parse {path} ({exc}); is it a CSV/parquet table?") from None


def numeric_matrix(frame: pd.DataFrame, columns: list[str], where: str) -> np.ndarray:
    """Columns as a float matrix ``(T, C)``; a non-numeric entry is named with its row."""
    if not columns:
        raise DataError(f"{where}: no value columns left to read; set 'value_columns'")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{where}: no column(s) {missing} (columns: {list(frame.columns)})")
    out = np.empty((len(frame), len(columns)), dtype=np.float64)
    for j, name in enumerate(columns):
        col = frame[name]
        if col.dtype == bool:
            col = col.astype(np.float64)
        converted = pd.to_numeric(col, errors="coerce")
        bad = converted.isna() & col.notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"{where}: column {name!r} is not numeric (row {row}: {col.iloc[row]!r}); "
                "drop it with 'value_columns' or encode it as numbers"
            )
        out[:, j] = converted.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def binary_labels(values: Any, where: str) -> np.ndarray:
    """0/1 labels (booleans and 0.0/1.0 accepted); anything else is an error."""
    arr = np.asarray(values)
    if arr.dtype == bool:
        return arr.astype(np.int8)
    try:
        num = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{where}: labels must be 0/1, found non-numeric values such as {arr[:3].tolist()}") from None
    if np.isnan(num).any():
        row = int(np.flatnonzero(np.isnan(num))[0])
        raise DataError(f"{where}: label missing at row {row}; every timestep needs a 0/1 label")
    bad = ~np.isin(num, (0.0, 1.0))
    if bad.any():
        raise DataError(
            f"{where}: labels must be 0 (normal) or 1 (anomalous), found {np.unique(num[bad])[:5].tolist()}; "
            "binarise the label column first"
        )
    return num.astype(np.int8)


def parse_timestamps(column: pd.Series, where: str) -> np.ndarray:
    """Datetimes (as ``datetime64[ns]``) or plain numbers; unparseable entries are an error."""
    if pd.api.types.is_numeric_dtype(column):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        if np.isnan(values).any():
            raise DataError(f"{where}: timestamp missing at row {int(np.flatnonzero(np.isnan(values))[0])}")
        return values
    parsed = pd.to_datetime(column, errors="coerce")
    if parsed.isna().any():
        row = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise DataError(f"{where}: cannot parse timestamp {column.iloc[row]!r} at row {row}")
    return parsed.to_numpy(dtype="datetime64[ns]")


#: column names taken as the time axis by ``timestamp_column="auto"`` (compared case-insensitively)
TIMESTAMP_NAMES = ("timestamp", "time", "datetime", "date", "ts", "time_stamp", "date_time")


def _all_dates(column: pd.Series) -> bool:
    """Every value of a text column parses as a date/time (numbers are never taken for dates)."""
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column) or column.isna().any():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas' "could not infer format" advice
        try:
            parsed = pd.to_datetime(column, errors="coerce")
        except (TypeError, ValueError, OverflowError):
            return False
    return bool(len(parsed)) and not parsed.isna().any()


def find_timestamp_column(frame: pd.DataFrame, skip: Collection[str] = ()) -> str | None:
    """The time column of a table when none is named (``timestamp_column="auto"``).

    The rule: the first column whose name is one of ``TIMESTAMP_NAMES`` (any case); else the
    first column of datetime type (parquet) or of text in which every value is a date/time;
    else None (rows are then named by their number). Numeric columns are taken only by name.
    """
    columns = [c for c in frame.columns if c not in skip]
    for column in columns:
        if str(column).strip().lower() in TIMESTAMP_NAMES:
            return str(column)
    for column in columns:
        values = frame[column]
        text = values.dtype == object or pd.api.types.is_string_dtype(values)
        if pd.api.types.is_datetime64_any_dtype(values) or (text and _all_dates(values)):
            return str(column)
    return None


@dataclass
class SeriesTable:
    """One series read from a file: values ``(T, C)``, labels ``(T,)``, optional timestamps and row numbers.

    ``rows``: each timestep's row in the file (0 = the first data row); cleaning keeps them
    with their values, so a sorted or thinned series still names the rows it came from.
    """

    values: np.ndarray
    labels: np.ndarray
    timestamps: np.ndarray | None = None
    channels: tuple[str, ...] = ()
    rows: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.values.ndim == 1:
            self.values = self.values[:, None]
        if len(self.labels) != len(self.values):
            raise DataError(f"{len(self.values)} timesteps but {len(self.labels)} labels")
        if self.rows is None:
            self.rows = np.arange(len(self.values))

    def take(self, index: np.ndarray) -> SeriesTable:
        """The timesteps ``index`` (a permutation or a mask), everything kept aligned."""
        ts = self.timestamps[index] if self.timestamps is not None else None
        return SeriesTable(self.values[index], self.labels[index], ts, self.channels, self.rows[index])  # type: ignore[index]


def apply_order(table: SeriesTable, policy: str, where: str) -> SeriesTable:
    """Enforce the ``order`` policy on timestamps that go backwards."""
    ts = table.timestamps
    if ts is None or len(ts) < 2 or policy == "ignore":
        return table
    back = np.flatnonzero(ts[1:] < ts[:-1])
    if back.size == 0:
        return table
    if policy == "check":
        i = int(back[0]) + 1
        raise DataError(
            f"{where}: timestamps go backwards at row {i} ({ts[i - 1]} then {ts[i]}; {back.size} such rows); "
            "pass order='sort' to sort the rows by time or order='ignore' to keep the file order"
        )
    return table.take(np.argsort(ts, kind="stable"))


def apply_missing(table: SeriesTable, policy: str, where: str) -> SeriesTable:
    """Enforce the ``missing`` policy on NaN values (infinities are always an error)."""
    values = table.values
    if np.isinf(values).any():
        row = int(np.flatnonzero(np.isinf(values).any(axis=1))[0])
        raise DataError(f"{where}: infinite value at row {row}; fix the source data")
    gaps = np.isnan(values)
    if not gaps.any():
        return table
    rows = np.flatnonzero(gaps.any(axis=1))
    if policy == "reject":
        raise DataError(
            f"{where}: {rows.size} rows have missing values (first at row {int(rows[0])}); "
            "pass missing='interpolate' or missing='drop'"
        )
    if policy == "drop":
        return table.take(~gaps.any(axis=1))
    filled = values.copy()
    index = np.arange(len(values))
    for j in range(values.shape[1]):
        ok = ~gaps[:, j]
        if not ok.any():
            raise DataError(f"{where}: channel {j} has no values at all; drop it")
        filled[:, j] = np.interp(index, index[ok], values[ok, j])
    return SeriesTable(filled, table.labels, table.timestamps, table.channels, table.rows)


def clean(table: SeriesTable, *, order: str, missing: str, where: str) -> SeriesTable:
    """Order first (so interpolation runs along time), then missing values; reject empty series."""
    table = apply_missing(apply_order(table, order, where), missing, where)
    if len(table.values) < 2:
        raise DataError(f"{where}: series has {len(table.values)} timesteps after cleaning; need at least 2")
    return table


def list_files(path: Path, pattern: str, max_series: int | None, where: str) -> list[Path]:
    """A file, or the sorted matches of ``pattern`` in a folder (at least one)."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataError(f"{where}: {path} does not exist; check the 'path' parameter")
    files = sorted(p for p in path.glob(pattern) if p.is_file())
    if not files:
        raise DataError(f"{where}: no files matching {pattern!r} in {path}")
    return files[:max_series] if max_series is not None else files


def named_files(
    path: Path, pattern: str, max_series: int | None, name: re.Pattern[str], expected: str, where: str
) -> Iterator[tuple[Path, str, re.Match[str]]]:
    """Files whose stem matches ``name`` (which carries split/label facts), with a message-ready ``where``."""
    for file in list_files(path, pattern, max_series, where):
        file_where = f"{where}: {file.name}"
        match = name.search(file.stem)
        if match is None:
            raise DataError(f"{file_where}: name does not end in {expected}")
        yield file, file_where, match
