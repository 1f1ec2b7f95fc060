"""NASA's SMAP and MSL telemetry as telemanom released it: one subset per channel.

Layout (``data.zip`` plus ``labeled_anomalies.csv`` of github.com/khundman/telemanom)::

    <path>/labeled_anomalies.csv     chan_id, spacecraft, anomaly_sequences, class, num_values
    <path>/train/<chan_id>.npy       (T_train, F) float: column 0 the telemetry value, the rest commands
    <path>/test/<chan_id>.npy        (T_test, F)

``anomaly_sequences`` such as ``"[[2149, 2349], [4536, 4844]]"`` are **inclusive** index ranges
of the test file: telemanom's own evaluation (``Detector.evaluate_sequences``) expands each to
``range(start, end + 1)``, and the ranges that run to the end of a series stop at
``num_values - 1`` (E-3: ``[5094, 8306]`` with 8,307 values). Re-packagings that slice
``labels[start:end]`` label one step fewer per range. The published CSV lists SMAP's P-2
twice with different ranges; rows of one channel are merged (the union of their ranges)
and counted in ``meta["counts"]["label_rows_merged"]``.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from omniad.data import Subset
from omniad.errors import DataError
from omniad.npyfiles import load_npy
from omniad_timeseries.datasets.base import SeriesDataset, series_subset
from omniad_timeseries.datasets.params import TelemanomParams
from omniad_timeseries.datasets.reading import SeriesTable, clean

COLUMNS = ("chan_id", "spacecraft", "anomaly_sequences", "num_values")


@dataclass
class Channel:
    """One channel's label facts, gathered from its row(s) of the CSV."""

    chan_id: str
    spacecraft: str
    num_values: int
    line: int  # first CSV line (the header is line 1)
    ranges: list[tuple[int, int]] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    merged: int = 0


def parse_ranges(text: str, where: str) -> list[tuple[int, int]]:
    """``"[[a, b], [c, d]]"`` as inclusive (start, end) pairs; anything else is an error."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        value = None
    ok = isinstance(value, (list, tuple)) and all(
        isinstance(pair, (list, tuple))
        and len(pair) == 2
        and all(isinstance(i, int) and not isinstance(i, bool) for i in pair)
        for pair in value
    )
    if not ok:
        raise DataError(
            f"{where}: anomaly_sequences {text!r} is not a list of [start, end] integer pairs "
            'such as "[[2149, 2349], [4536, 4844]]"'
        )
    ranges = [(int(a), int(b)) for a, b in value]
    for start, end in ranges:
        if not 0 <= start <= end:
            raise DataError(f"{where}: anomaly range [{start}, {end}] is not 0 <= start <= end")
    return ranges


def parse_classes(text: str, n_ranges: int, where: str) -> list[str]:
    """``"[contextual, point]"`` (telemanom writes the names unquoted), one per range."""
    inner = text.strip()
    if not (inner.startswith("[") and inner.endswith("]")):
        raise DataError(f'{where}: class {text!r} is not a bracketed list such as "[point, contextual]"')
    names = [part.strip().strip("'\"") for part in inner[1:-1].split(",") if part.strip()]
    if len(names) != n_ranges:
        raise DataError(f"{where}: class lists {len(names)} kinds for {n_ranges} anomaly ranges")
    return names


def read_labels(path: Path, where: str) -> dict[str, Channel]:
    """Every channel of the CSV, duplicate rows merged; a bad row is an error naming its line."""
    if not path.is_file():
        raise DataError(
            f"{where}: no {path.name} in {path.parent}; download it from github.com/khundman/telemanom"
        )
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{where}: cannot parse {path} ({exc})") from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{where}: {path.name} has no column(s) {missing} (columns: {list(frame.columns)})")
    channels: dict[str, Channel] = {}
    for i, row in enumerate(frame.to_dict("records")):
        line = i + 2
        chan = row["chan_id"].strip()
        row_where = f"{where}: {path.name} line {line} (chan_id {chan!r})"
        if not chan:
            raise DataError(f"{where}: {path.name} line {line}: empty chan_id")
        try:
            num_values = int(row["num_values"])
        except ValueError:
            num_values = 0
        if num_values < 1:
            raise DataError(f"{row_where}: num_values {row['num_values']!r} is not a positive integer")
        ranges = parse_ranges(row["anomaly_sequences"], row_where)
        for start, end in ranges:
            if end >= num_values:
                raise DataError(
                    f"{row_where}: anomaly range [{start}, {end}] reaches beyond the series "
                    f"(num_values {num_values}: indices 0..{num_values - 1}; ranges are inclusive)"
                )
        classes = parse_classes(row["class"], len(ranges), row_where) if "class" in frame.columns else []
        spacecraft = row["spacecraft"].strip()
        known = channels.get(chan)
        if known is None:
            channels[chan] = Channel(chan, spacecraft, num_values, line, ranges, classes)
            continue
        if (known.spacecraft, known.num_values) != (spacecraft, num_values):
            raise DataError(
                f"{row_where}: repeats line {known.line} with another spacecraft or num_values "
                f"({spacecraft}, {num_values} vs {known.spacecraft}, {known.num_values}); keep one row per channel"
            )
        known.ranges += ranges
        known.classes += classes
        known.merged += 1
    return channels


def read_npy(path: Path, where: str) -> np.ndarray:
    """A channel's (T, F) array, read through :func:`omniad.npyfiles.load_npy` (header checked, no pickle)."""
    if not path.is_file():
        raise DataError(
            f"{where}: missing file {path}; the telemanom layout needs train/<chan>.npy and test/<chan>.npy"
        )
    values = load_npy(path, what="telemetry channel", where=where)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[0] == 0 or values.dtype.kind not in "fiu":
        raise DataError(
            f"{where}: {path} holds a {values.dtype} array of shape {values.shape}; expected numeric (T, F)"
        )
    return values.astype(np.float64)


def inclusive_labels(length: int, ranges: list[tuple[int, int]]) -> np.ndarray:
    labels = np.zeros(length, dtype=np.int8)
    for start, end in ranges:
        labels[start : end + 1] = 1
    return labels


class Telemanom(SeriesDataset):
    Params = TelemanomParams

    def selected(self) -> list[Channel]:
        p = self.params
        labels_path = p.path / p.labels_file
        channels = read_labels(labels_path, self.where)
        wanted = set(p.spacecraft)
        found = sorted({c.spacecraft for c in channels.values()})
        if not wanted & set(found):
            raise DataError(
                f"{self.where}: {labels_path.name} has no rows for spacecraft {sorted(wanted)} (found: {found})"
            )
        pool = {k: c for k, c in channels.items() if c.spacecraft in wanted}
        if p.channels is None:
            self._warn_unlabelled(set(channels))
            return list(pool.values())
        unknown = [c for c in p.channels if c not in pool]
        if unknown:
            raise DataError(
                f"{self.where}: unknown channels {unknown} for spacecraft {sorted(wanted)} in {labels_path.name}; "
                f"available: {sorted(pool)[:12]}{' ...' if len(pool) > 12 else ''}"
            )
        return [pool[c] for c in p.channels]

    def _warn_unlabelled(self, labelled: set[str]) -> None:
        test_dir = self.params.path / "test"
        extra = (
            sorted(f.stem for f in test_dir.glob("*.npy") if f.stem not in labelled)
            if test_dir.is_dir()
            else []
        )
        if extra:
            warnings.warn(
                f"{self.where}: {len(extra)} test file(s) have no row in {self.params.labels_file} and are "
                f"skipped: {extra[:10]}",
                stacklevel=3,
            )

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        for chan in self.selected():
            where = f"{self.where}: {chan.chan_id}"
            train = read_npy(p.path / "train" / f"{chan.chan_id}.npy", where)
            test = read_npy(p.path / "test" / f"{chan.chan_id}.npy", where)
            if train.shape[1] != test.shape[1]:
                raise DataError(f"{where}: train has {train.shape[1]} columns, test {test.shape[1]}")
            if len(test) != chan.num_values:
                raise DataError(
                    f"{where}: test/{chan.chan_id}.npy has {len(test)} rows but {p.labels_file} line {chan.line} "
                    f"says num_values {chan.num_values}; the files do not belong together"
                )
            if p.features == "telemetry":
                train, test = train[:, :1], test[:, :1]
            test_table = clean(
                SeriesTable(test, inclusive_labels(len(test), chan.ranges)),
                order="ignore",
                missing=p.missing,
                where=f"{where} (test)",
            )
            train_table = clean(
                SeriesTable(train, np.zeros(len(train), dtype=np.int8)),
                order="ignore",
                missing=p.missing,
                where=f"{where} (train)",
            )
            yield series_subset(
                chan.chan_id,
                test_table.values,
                test_table.labels,
                len(train_table.values),
                train_values=train_table.values,
                meta={
                    "spacecraft": chan.spacecraft,
                    "n_channels": int(test.shape[1]),
                    "anomaly_sequences": [list(r) for r in chan.ranges],
                    "anomaly_classes": chan.classes,
                    "counts": {"label_rows_merged": chan.merged},
                },
            )
