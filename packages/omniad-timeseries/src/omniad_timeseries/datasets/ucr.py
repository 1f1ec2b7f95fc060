"""The UCR time-series anomaly archive (KDD Cup 2021): one anomaly per series, its place in the name.

``135_UCR_Anomaly_InternalBleeding16_1200_4187_4199.txt``: the first 1200 values are the
anomaly-free training part; the anomaly spans rows 4187 up to (not including) 4199, counted
from 0. That is how aeon's bundled copy of this very series labels it (rows 4187-4198),
so omniad and aeon agree point for point. The test split is the whole series, as in TSB-AD.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

from omniad.data import Subset
from omniad.errors import DataError
from omniad_timeseries.datasets.base import SeriesDataset, series_subset
from omniad_timeseries.datasets.params import UCRParams
from omniad_timeseries.datasets.reading import SeriesTable, clean, named_files

NAME = re.compile(r"_(?P<train>\d+)_(?P<start>\d+)_(?P<end>\d+)$")


def ucr_labels(length: int, start: int, end: int, where: str) -> np.ndarray:
    if not 0 <= start < end <= length:
        raise DataError(f"{where}: anomaly [{start}, {end}) from the file name lies outside the series (length {length})")
    labels = np.zeros(length, dtype=np.int8)
    labels[start:end] = 1
    return labels


class UCR(SeriesDataset):
    Params = UCRParams

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        expected = "_<train end>_<anomaly start>_<anomaly end> (UCR anomaly archive naming)"
        for path, where, match in named_files(p.path, p.pattern, p.max_series, NAME, expected, self.where):
            try:
                values = np.array(path.read_text().split(), dtype=np.float64)
            except ValueError as exc:
                raise DataError(f"{where}: not a whitespace-separated list of numbers ({exc})") from None
            start, end = int(match["start"]), int(match["end"])
            table = SeriesTable(values, ucr_labels(len(values), start, end, where))
            table = clean(table, order="ignore", missing=p.missing, where=where)
            n_train = int(match["train"])
            if not 0 < n_train < len(table.values):
                raise DataError(f"{where}: train end {n_train} from the file name is outside the series")
            yield series_subset(path.stem, table.values, table.labels, n_train, meta={"path": str(path)})
