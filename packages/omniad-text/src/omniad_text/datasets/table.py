"""Text tables as datasets: labelled rows (``text.table``) and the one-vs-rest protocol (``text.one_vs_rest``).

``text.table`` is one subset: the normal rows (label 0, or a category in
``normal_categories``) are split into train and test, the anomalous rows join the test
split. ``text.one_vs_rest`` turns any categorised corpus into one subset per category
(``protocol.one_vs_rest``). Both read through ``reading.read_table``, so the repairs and
their counts in ``Subset.meta`` are the same (``docs/datasets.md`` lists the keys).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from omniad.data import Subset
from omniad.dataset import Dataset
from omniad.errors import DataError
from omniad_text.datasets.params import OneVsRestParams, TableParams
from omniad_text.datasets.protocol import Corpus, load_corpus, one_vs_rest, split_subset
from omniad_text.datasets.reading import require_file

_NORMAL = {"0", "false", "normal", "no", "n"}
_ANOMALOUS = {"1", "true", "anomaly", "anomalous", "abnormal", "yes", "y"}


def parse_label(value: str, where: str, row: str) -> int:
    text = value.strip().lower()
    if text.endswith(".0"):  # spreadsheets write 1 as 1.0
        text = text[:-2]
    if text in _NORMAL:
        return 0
    if text in _ANOMALOUS:
        return 1
    raise DataError(f"{where}: {row}: label {value!r} is not 0/1, true/false or normal/anomaly")


class TextTable(Dataset):
    """One subset from a labelled (or categorised) table of texts."""

    Params = TableParams

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        path = require_file(p.path, "path", self.where)
        where = f"{self.where}: {path.name}"
        if p.label_column is not None:
            corpus = load_corpus(path, p, p.label_column, "label_column", where)
            labels = np.array([parse_label(g, where, i) for g, i in zip(corpus.groups, corpus.ids, strict=True)])
            normal, anomalous = np.flatnonzero(labels == 0), np.flatnonzero(labels == 1)
            meta: dict[str, object] = {"label_column": p.label_column}
        else:
            assert p.category_column is not None and p.normal_categories is not None
            corpus = load_corpus(path, p, p.category_column, "category_column", where)
            missing = sorted(set(p.normal_categories) - set(corpus.groups))
            if missing:
                raise DataError(f"{where}: normal_categories {missing} are not in the data (categories: "
                                f"{corpus.categories()})")
            is_normal = np.isin(np.array(corpus.groups, dtype=object), p.normal_categories)
            normal, anomalous = np.flatnonzero(is_normal), np.flatnonzero(~is_normal)
            meta = {"normal_categories": list(p.normal_categories)}
        yield split_subset(path.stem, corpus, normal, anomalous, p, 0, where, meta=meta,
                           count_groups=p.category_column is not None)


class OneVsRest(Dataset):
    """Each category of a table in turn is normal (Text-ADBench / NLP-ADBench protocol)."""

    Params = OneVsRestParams

    def corpus(self) -> Corpus:
        p = self.params
        path = require_file(p.path, "path", self.where)
        return load_corpus(path, p, p.category_column, "category_column", f"{self.where}: {path.name}")

    def iter_subsets(self) -> Iterator[Subset]:
        yield from one_vs_rest(self.corpus(), self.params, self.where)
