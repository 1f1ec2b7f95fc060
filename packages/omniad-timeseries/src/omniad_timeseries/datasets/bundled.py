"""Labelled series that ship inside the sktime and aeon wheels: real data with no download.

sktime 1.2 ships ``mitdb`` (7,500 ECG samples) and ``yahoo`` (1,000 points), each a
``data,label`` CSV. aeon ships TimeEval-format CSVs with an ``is_anomaly`` column, e.g. the
UCR archive's InternalBleeding16 (separate ``_TRAIN``/``_TEST`` files) and a multivariate
Daphnet recording; every such CSV in its data folder is picked up. The packages are only
located, never imported, so this stays fast.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from omniad.data import Subset
from omniad.errors import DataError
from omniad_timeseries.datasets.base import SeriesDataset, series_subset
from omniad_timeseries.datasets.params import BundledParams
from omniad_timeseries.datasets.reading import SeriesTable, binary_labels, clean, numeric_matrix
from omniad_timeseries.datasets.splits import train_length

SKTIME_FILES = ("mitdb/mitdb.csv", "yahoo/yahoo.csv")
AEON_LABEL = "is_anomaly"


def package_data_dir(package: str) -> Path | None:
    """``<package>/datasets/data`` of an installed package, without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
    return folder if folder.is_dir() else None


def _table(frame: pd.DataFrame, label: str, drop: tuple[str, ...], where: str) -> SeriesTable:
    channels = [c for c in frame.columns if c != label and c not in drop]
    table = SeriesTable(numeric_matrix(frame, channels, where), binary_labels(frame[label], where), None, tuple(channels))
    return clean(table, order="ignore", missing="reject", where=where)


class Bundled(SeriesDataset):
    Params = BundledParams

    def _sktime(self, folder: Path) -> Iterator[Subset]:
        for rel in SKTIME_FILES:
            path = folder / rel
            if not path.is_file():
                continue
            where = f"{self.where}: sktime {rel}"
            table = _table(pd.read_csv(path), "label", (), where)
            n_train = train_length(self.params.train, table.labels, self.params.train_fraction)
            yield series_subset(f"sktime/{path.stem}", table.values, table.labels, n_train, meta={"path": str(path)})

    def _aeon(self, folder: Path) -> Iterator[Subset]:
        for path in sorted(folder.glob("*/*.csv")):
            if path.stem.endswith("_TRAIN"):
                continue
            header = pd.read_csv(path, nrows=0).columns
            if AEON_LABEL not in header:
                continue
            where = f"{self.where}: aeon {path.parent.name}/{path.name}"
            table = _table(pd.read_csv(path), AEON_LABEL, ("timestamp",), where)
            name = path.stem.removesuffix("_TEST")
            train_file = path.with_name(f"{name}_TRAIN.csv")
            meta = {"path": str(path)}
            if train_file.is_file():
                train = _table(pd.read_csv(train_file), AEON_LABEL, ("timestamp",), where + " (train)")
                yield series_subset(f"aeon/{name}", table.values, table.labels, len(train.values),
                                    train_values=train.values, meta=meta)
            else:
                n_train = train_length(self.params.train, table.labels, self.params.train_fraction)
                yield series_subset(f"aeon/{name}", table.values, table.labels, n_train, meta=meta)

    def iter_subsets(self) -> Iterator[Subset]:
        found = False
        for source in self.params.sources:
            folder = package_data_dir(source)
            if folder is None:
                continue
            for subset in (self._sktime(folder) if source == "sktime" else self._aeon(folder)):
                found = True
                yield subset
        if not found:
            raise DataError(
                f"{self.where}: none of {self.params.sources} is installed with labelled series; "
                "pip install sktime (or aeon)"
            )

