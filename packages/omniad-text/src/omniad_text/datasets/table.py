"""Text tables as datasets: labelled rows (``text.table``) and the one-vs-rest protocol (``text.one_vs_rest``).

``text.table`` is one subset. With ``split="random"`` (a benchmark) the normal rows (label 0,
or a category in ``normal_categories``) are split into train and test, the anomalous rows join
the test split. With ``split="all"`` (a user's own data, what ``omniad fit / score / detect``
open a bare path with) every text is in the test split and the texts not labelled anomalous
train; labels are optional there, and plain text is read too: a ``.txt`` file or a folder of
``.txt`` files (``plain.py``). ``text.one_vs_rest`` turns any categorised corpus into one
subset per category (``protocol.one_vs_rest``). All read through ``reading.read_table`` or
``plain.read_plain``, so the repairs and their counts in ``Subset.meta`` are the same
(``docs/datasets.md`` lists the keys).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from omniad.data import Subset, whole_subset
from omniad.errors import ConfigError, DataError
from omniad_text.datasets.base import TextDataset
from omniad_text.datasets.params import TABLE_ONLY, OneVsRestParams, TableParams
from omniad_text.datasets.plain import read_plain
from omniad_text.datasets.protocol import Corpus, load_corpus, one_vs_rest, split_subset, warn_repairs
from omniad_text.datasets.reading import SUFFIX_FORMATS, format_hint, read_table, require_file

#: the column used as 0/1 labels with split='all' when the table has it and no label source is named
LABEL = "label"

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


def table_path(path: Path | None, where: str) -> Path:
    if path is None:
        raise ConfigError(
            f"{where}: parameter 'path' is required (a CSV, TSV, JSONL or parquet table, a .txt file "
            "or a folder of .txt files)"
        )
    path = Path(path).expanduser()
    if not path.exists():
        raise ConfigError(
            f"{where}: path={str(path)!r} does not exist; point 'path' at a CSV, TSV, JSONL or parquet "
            "table, a .txt file or a folder of .txt files"
        )
    return path


def text_format(path: Path, fmt: str, where: str) -> str:
    """``txt`` for plain text (a .txt file, a folder), else the table format (from the suffix when ``auto``)."""
    if path.is_dir():
        if fmt not in ("auto", "txt"):
            raise ConfigError(
                f"{where}: {path.name} is a folder, read as one text per .txt file; format={fmt!r} "
                "applies to a file, leave it 'auto'"
            )
        return "txt"
    if fmt != "auto":
        return fmt
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return "txt"
    if suffix not in SUFFIX_FORMATS:
        raise ConfigError(
            f"{where}: cannot tell the format of {path.name} from its suffix; set format='csv', 'tsv', "
            f"'jsonl', 'parquet' or 'txt' (plain text, see one_text_per){format_hint(path)}"
        )
    return SUFFIX_FORMATS[suffix]


def _check_plain(p: TableParams, where: str) -> None:
    """Plain text has no columns: table options set to anything but their defaults are mistakes, said as such."""
    defaults = {name: TableParams.model_fields[name].default for name in TABLE_ONLY}
    wrong = [name for name in TABLE_ONLY if getattr(p, name) != defaults[name]]
    if wrong:
        unset = [
            f"-s {name}=null" if defaults[name] is None else f"-s {name}={defaults[name]}" for name in wrong
        ]
        if p.normal_categories is not None:
            unset.append("-s normal_categories=null")
        split = "" if p.split == "all" else "; plain text is unlabelled and needs split='all'"
        raise ConfigError(
            f"{where}: plain text (a .txt file or a folder) has no columns, so {', '.join(wrong)} "
            f"cannot apply; set format='csv' (or 'tsv') if it is a table, or leave them unset "
            f"({' '.join(unset)}){split}"
        )


class TextTable(TextDataset):
    """One subset from a table of texts (labelled, categorised or, with ``split='all'``, neither) or plain text."""

    Params = TableParams

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        path = table_path(p.path, self.where)
        where = f"{self.where}: {path.name}"
        kind = text_format(path, p.format, where)
        name = path.name if path.is_dir() else path.stem
        if kind == "txt":
            _check_plain(p, where)
            yield self._everything(name, read_plain(path, p, where), None, {}, where)
            return
        require_file(path, "path", self.where)
        if p.split == "all":
            yield self._all_rows(name, path, kind, where)
            return
        if p.label_column is not None:
            corpus = load_corpus(path, p, p.label_column, "label_column", where)
            labels = np.array(
                [parse_label(g, where, i) for g, i in zip(corpus.groups, corpus.ids, strict=True)]
            )
            normal, anomalous = np.flatnonzero(labels == 0), np.flatnonzero(labels == 1)
            meta: dict[str, object] = {"label_column": p.label_column}
        else:
            assert p.category_column is not None and p.normal_categories is not None
            corpus = load_corpus(path, p, p.category_column, "category_column", where)
            missing = sorted(set(p.normal_categories) - set(corpus.groups))
            if missing:
                raise DataError(
                    f"{where}: normal_categories {missing} are not in the data (categories: "
                    f"{corpus.categories()})"
                )
            is_normal = np.isin(np.array(corpus.groups, dtype=object), p.normal_categories)
            normal, anomalous = np.flatnonzero(is_normal), np.flatnonzero(~is_normal)
            meta = {"normal_categories": list(p.normal_categories)}
        yield split_subset(
            name,
            corpus,
            normal,
            anomalous,
            p,
            0,
            where,
            meta=meta,
            count_groups=p.category_column is not None,
        )

    def _all_rows(self, name: str, path: Path, kind: str, where: str) -> Subset:
        """Every row of a table; labels from label_column, category_column or a column named 'label', else none."""
        p = self.params
        # p.format, not kind: a .csv whose format came from its suffix has its delimiter sniffed
        table = read_table(path, p.format, p.encoding, where, p.delimiter, p.columns)  # type: ignore[arg-type]
        named = p.label_column or p.category_column
        if named is not None and named not in table[1]:
            which = "label_column" if p.label_column else "category_column"
            unset = (
                "-s label_column=null"
                if p.label_column
                else "-s category_column=null -s normal_categories=null"
            )
            raise DataError(
                f"{where}: no column {named!r} to label the texts with (columns: {table[1]}); set "
                f"{which} to one of them, or read the file unlabelled ({unset})"
            )
        label_column = p.label_column
        if label_column is None and p.category_column is None and LABEL in table[1]:
            label_column = LABEL  # as core.csv_table does: a 'label' column is the labels
        if label_column is not None:
            corpus = load_corpus(path, p, label_column, "label_column", where, table)
            how = (
                ""
                if p.label_column
                else f" (the column {LABEL!r}, used as labels because it is named so; "
                "set category_column and normal_categories if it holds categories)"
            )
            labels = np.array(
                [parse_label(g, f"{where}{how}", i) for g, i in zip(corpus.groups, corpus.ids, strict=True)]
            )
            return self._everything(name, corpus, labels, {"label_column": label_column}, where)
        if p.category_column is not None:
            assert p.normal_categories is not None
            corpus = load_corpus(path, p, p.category_column, "category_column", where, table)
            labels = (~np.isin(np.array(corpus.groups, dtype=object), p.normal_categories)).astype(np.int8)
            return self._everything(
                name, corpus, labels, {"normal_categories": list(p.normal_categories)}, where
            )
        return self._everything(
            name, load_corpus(path, p, None, "label_column", where, table), None, {}, where
        )

    def _everything(
        self, name: str, corpus: Corpus, labels: np.ndarray | None, meta: dict[str, object], where: str
    ) -> Subset:
        """``whole_subset``: test = every text, train = those not labelled anomalous; repairs counted and warned."""
        counts = corpus.repairs(np.arange(len(corpus.texts)))
        warn_repairs(name, counts, where)
        info = {**corpus.counts, "path": corpus.path, **meta, "counts": counts}
        if labels is not None:
            info["n_anomalous"] = int(labels.sum())
        return whole_subset(name, corpus.texts, ids=corpus.ids, labels=labels, meta=info)


class OneVsRest(TextDataset):
    """Each category of a table in turn is normal (Text-ADBench / NLP-ADBench protocol)."""

    Params = OneVsRestParams

    def corpus(self) -> Corpus:
        p = self.params
        path = require_file(p.path, "path", self.where)
        return load_corpus(path, p, p.category_column, "category_column", f"{self.where}: {path.name}")

    def iter_subsets(self) -> Iterator[Subset]:
        yield from one_vs_rest(self.corpus(), self.params, self.where)
