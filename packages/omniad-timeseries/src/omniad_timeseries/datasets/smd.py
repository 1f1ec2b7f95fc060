"""Server Machine Dataset layout: ``train/<m>.txt``, ``test/<m>.txt``, ``test_label/<m>.txt``.

Each file holds one row per timestep (comma-separated channels); the labels file one 0/1
per line. The train file is a separate, unlabelled series of the same machine, so it is
the train split as is. Some re-packagings of SMAP/MSL and PSM use this layout too (text
files per entity); telemanom's own SMAP/MSL release (.npy files and labeled_anomalies.csv)
loads with ``timeseries.telemanom``. Both layouts: docs/datasets.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from omniad.data import Subset
from omniad.errors import DataError
from omniad_timeseries.datasets.base import SeriesDataset, series_subset
from omniad_timeseries.datasets.params import SMDParams
from omniad_timeseries.datasets.reading import SeriesTable, binary_labels, clean


def read_matrix(path: Path, delimiter: str, where: str) -> np.ndarray:
    if not path.is_file():
        raise DataError(f"{where}: missing file {path}; the SMD layout needs train/, test/ and test_label/")
    try:
        values = np.loadtxt(path, delimiter=delimiter, dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise DataError(f"{where}: {path.name} is not numeric with delimiter {delimiter!r} ({exc})") from None
    if values.size == 0:
        raise DataError(f"{where}: {path} is empty")
    return values


class SMD(SeriesDataset):
    Params = SMDParams

    def machines(self) -> list[str]:
        test_dir = self.params.path / "test"
        if not test_dir.is_dir():
            raise DataError(f"{self.where}: no test/ folder in {self.params.path}; check the 'path' parameter")
        found = sorted(p.stem for p in test_dir.glob("*.txt"))
        if self.params.machines is None:
            if not found:
                raise DataError(f"{self.where}: no .txt files in {test_dir}")
            return found
        unknown = sorted(set(self.params.machines) - set(found))
        if unknown:
            raise DataError(f"{self.where}: unknown machines {unknown}; available: {found[:10]}")
        return list(self.params.machines)

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        for machine in self.machines():
            where = f"{self.where}: {machine}"
            train = read_matrix(p.path / "train" / f"{machine}.txt", p.delimiter, where)
            test = read_matrix(p.path / "test" / f"{machine}.txt", p.delimiter, where)
            labels = binary_labels(read_matrix(p.path / "test_label" / f"{machine}.txt", p.delimiter, where)[:, 0], where)
            if train.shape[1] != test.shape[1]:
                raise DataError(f"{where}: train has {train.shape[1]} channels, test {test.shape[1]}")
            if len(labels) != len(test):
                raise DataError(f"{where}: {len(test)} test rows but {len(labels)} labels; the files do not match")
            test_table = clean(SeriesTable(test, labels), order="ignore", missing=p.missing, where=f"{where} (test)")
            train_table = clean(
                SeriesTable(train, np.zeros(len(train), dtype=np.int8)), order="ignore", missing=p.missing,
                where=f"{where} (train)",
            )
            yield series_subset(
                machine, test_table.values, test_table.labels, len(train_table.values),
                train_values=train_table.values, meta={"n_channels": int(test.shape[1])},
            )
