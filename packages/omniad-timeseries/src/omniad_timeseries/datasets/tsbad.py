"""TSB-AD's CSV files (TSB-AD-U / TSB-AD-M): value columns, a ``Label`` column, the train length in the name.

``001_NAB_id_1_Facility_tr_1007_1st_2014.csv`` holds one series; the train split is its
first 1007 rows (TSB-AD's ``data[:int(train_index)]``), the test split the whole series.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from omniad.data import Subset
from omniad.errors import DataError
from omniad_timeseries.datasets.base import SeriesDataset, series_subset
from omniad_timeseries.datasets.params import TSBADParams
from omniad_timeseries.datasets.reading import (
    SeriesTable,
    binary_labels,
    clean,
    named_files,
    numeric_matrix,
    read_table,
)

NAME = re.compile(r"_tr_(?P<train>\d+)_1st_(?P<first>\d+)$")
DOMAIN = re.compile(r"^\d+_(?P<dataset>[^_]+)_id_\d+_(?P<domain>[^_]+)_tr_")


class TSBAD(SeriesDataset):
    Params = TSBADParams

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        expected = "_tr_<train length>_1st_<first anomaly> (TSB-AD's naming; use timeseries.table for other CSVs)"
        for path, where, match in named_files(p.path, p.pattern, p.max_series, NAME, expected, self.where):
            frame = read_table(path, where)
            if "Label" not in frame.columns:
                raise DataError(f"{where}: no 'Label' column (columns: {list(frame.columns)})")
            channels = [c for c in frame.columns if c != "Label"]
            table = SeriesTable(
                numeric_matrix(frame, channels, where), binary_labels(frame["Label"], where), None, tuple(channels)
            )
            table = clean(table, order="ignore", missing=p.missing, where=where)
            n_train = min(int(match["train"]), len(table.values))
            info = {"path": str(path), "channels": list(channels), "train_rule": "file name"}
            dom = DOMAIN.match(path.stem)
            if dom:
                info.update(source=dom["dataset"], domain=dom["domain"])
            yield series_subset(path.stem, table.values, table.labels, n_train, meta=info)
