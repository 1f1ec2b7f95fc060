"""A corpus of texts with a category (or label) per text, and the splits built from it.

The one-vs-rest protocol is Text-ADBench's / NLP-ADBench's (and the BBC anchors'): each
category in turn is the normal class; a seeded ``train_fraction`` of its texts is the
train split, the rest of it plus the texts of every other category (or a seeded sample
of them, ``contamination``) is the test split. Random draws use one generator per
(seed, purpose, category), so the split of one category does not change when another
category is added or left out.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from omniad.data import Split, Subset
from omniad.errors import ConfigError, DataError
from omniad_text.datasets.params import ProtocolParams, ReadingParams, SplitParams
from omniad_text.datasets.reading import (
    REPLACEMENT,
    TextRepairWarning,
    cell_text,
    read_table,
    require_columns,
)

#: purposes of the seeded generators (part of the seed, so draws are independent)
SAMPLE, SPLIT, ANOMALIES = 0, 1, 2


@dataclass
class Corpus:
    """Texts in file order with their group (category or label), row ids, and what reading repaired."""

    texts: list[str]
    groups: list[str]
    ids: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    path: str = ""

    def indices(self, group: str) -> np.ndarray:
        return np.array([i for i, g in enumerate(self.groups) if g == group], dtype=np.int64)

    def categories(self) -> list[str]:
        return sorted(set(self.groups))

    def repairs(self, used: np.ndarray) -> dict[str, int]:
        """What reading repaired or dropped, for a subset built from the texts ``used``.

        Rows dropped (empty text, no group) are facts of the file; replaced characters are
        counted in the subset's own texts, so a subset that never sees a repaired text says 0.
        """
        counts = {k: int(v) for k, v in self.counts.items()
                  if k.startswith(("empty_texts_", "rows_without_", "files_"))}
        repaired = self.counts.get("replaced_chars", 0) > 0  # a clean file's own U+FFFD is no repair
        per_text = [self.texts[i].count(REPLACEMENT) if repaired else 0 for i in used]
        counts["replaced_chars"] = int(sum(per_text))
        counts["texts_with_replacements"] = sum(1 for n in per_text if n)
        return counts


Table = tuple[list[dict[str, Any]], list[str], int]


def load_corpus(
    path: Path, p: ReadingParams, group_column: str | None, group_param: str, where: str, table: Table | None = None,
) -> Corpus:
    """Rows with a non-empty text and a group; empty texts and missing groups are counted, not kept.

    ``group_column=None``: unlabelled texts, every row with a text is kept (groups are empty).
    ``table``: the file already read by ``read_table``.
    """
    rows, columns, replaced = table if table is not None else read_table(
        path, p.format, p.encoding, where, p.delimiter, p.columns)  # type: ignore[arg-type]
    if not rows:
        raise DataError(f"{where}: {path.name} has no rows")
    require_columns(columns, {"text_column": p.text_column, group_param: group_column, "id_column": p.id_column}, where)
    texts: list[str] = []
    groups: list[str] = []
    ids: list[str] = []
    empty = no_group = 0
    for i, row in enumerate(rows):
        text = cell_text(row.get(p.text_column))
        if not text.strip():
            if p.empty_texts == "error":
                raise DataError(
                    f"{where}: row {i + 1} has an empty text in {p.text_column!r}; remove it or set empty_texts='drop'"
                )
            empty += 1
            continue
        group = cell_text(row.get(group_column)).strip() if group_column is not None else ""
        if group_column is not None and not group:
            no_group += 1
            continue
        texts.append(text)
        groups.append(group)
        ids.append(cell_text(row.get(p.id_column)) if p.id_column else f"row-{i + 1}")
    counts = {
        "rows_read": len(rows), "empty_texts_dropped": empty,
        "replaced_chars": replaced, "texts_with_replacements": sum(1 for t in texts if "\ufffd" in t),
    }
    if group_column is not None:
        counts[f"rows_without_{group_param.removesuffix('_column')}"] = no_group
    if not texts:
        needs = f"both a text and a {group_column!r} value" if group_column is not None else "a text"
        raise DataError(f"{where}: no row of {path.name} has {needs}")
    return Corpus(texts, groups, ids, counts, str(path))


def _rng(seed: int, purpose: int, key: int) -> np.random.Generator:
    return np.random.default_rng([seed, purpose, key])


def split_subset(
    name: str,
    corpus: Corpus,
    normal: np.ndarray,
    anomalous: np.ndarray,
    p: SplitParams,
    key: int,
    where: str,
    *,
    min_train: int = 2,
    meta: dict[str, Any] | None = None,
    count_groups: bool = False,
) -> Subset:
    """Seeded split of ``normal`` into train and test; the test split also gets the anomalies."""
    n = len(normal)
    n_train = round(p.train_fraction * n)
    if n_train < min_train or n - n_train < 1:
        raise DataError(
            f"{where}: normal class {name!r} has {n} texts, too few for a train/test split with "
            f"train_fraction={p.train_fraction} (needs {min_train}+ to train and 1+ to test); "
            "add texts or leave this class out"
        )
    if len(anomalous) == 0:
        raise DataError(f"{where}: normal class {name!r} leaves no anomalous texts for the test split")
    order = _rng(p.seed, SPLIT, key).permutation(n)
    train = np.sort(normal[order[:n_train]])
    test_normal = np.sort(normal[order[n_train:]])
    if p.contamination is not None:
        want = max(1, round(p.contamination * len(test_normal) / (1 - p.contamination)))
        if want > len(anomalous):
            raise DataError(
                f"{where}: contamination={p.contamination} needs {want} anomalies beside {len(test_normal)} normal "
                f"test texts of {name!r}, but only {len(anomalous)} exist; lower contamination"
            )
        anomalous = np.sort(_rng(p.seed, ANOMALIES, key).choice(anomalous, size=want, replace=False))
    test = np.sort(np.concatenate([test_normal, anomalous]))
    labels = np.isin(test, anomalous).astype(np.int8)

    def split(idx: np.ndarray, lab: np.ndarray | None) -> Split:
        return Split(samples=[corpus.texts[i] for i in idx], labels=lab, ids=[corpus.ids[i] for i in idx])

    info = {
        **corpus.counts, "path": corpus.path, "n_train": int(n_train), "n_test_normal": len(test_normal),
        "n_test_anomalous": len(anomalous), **(meta or {}),
    }
    if count_groups:
        info["anomalies_per_category"] = dict(sorted(Counter(corpus.groups[i] for i in anomalous).items()))
    info["counts"] = corpus.repairs(np.concatenate([train, test]))
    warn_repairs(name, info["counts"], where)
    return Subset(name=name, train=split(train, np.zeros(n_train, np.int8)), test=split(test, labels), meta=info)


def warn_repairs(name: str, counts: dict[str, int], where: str) -> None:
    """One warning per subset when reading repaired or dropped anything (the runner records it)."""
    made = {k: v for k, v in counts.items() if v}
    if not made:
        return
    listed = ", ".join(f"{k} {v}" for k, v in made.items())
    hint = "; set 'encoding' to the file's encoding if the replaced characters are not expected" if (
        made.get("replaced_chars")) else ""
    warnings.warn(f"{where}: subset {name!r}: reading repaired or dropped: {listed} (Subset.meta['counts']){hint}",
                  TextRepairWarning, stacklevel=3)


def one_vs_rest(corpus: Corpus, p: ProtocolParams, where: str) -> Iterator[Subset]:
    """One subset per normal category (Text-ADBench protocol)."""
    everything = corpus.categories()
    if len(everything) < 2:
        raise DataError(f"{where}: one-vs-rest needs 2+ categories, found {everything}; check category_column")
    chosen = list(p.categories) if p.categories is not None else everything
    unknown = [c for c in chosen if c not in everything]
    if unknown:
        raise ConfigError(f"{where}: categories {unknown} are not in the data (categories: {everything})")
    kept = {c: _keep(corpus.indices(c), p, k) for k, c in enumerate(everything)}
    for c in chosen:
        key = everything.index(c)
        others = np.sort(np.concatenate([kept[o] for o in everything if o != c]))
        yield split_subset(c, corpus, kept[c], others, p, key, where, min_train=p.min_train,
                           meta={"normal_category": c}, count_groups=True)


def _keep(idx: np.ndarray, p: ProtocolParams, key: int) -> np.ndarray:
    if p.max_per_category is None or len(idx) <= p.max_per_category:
        return idx
    return np.sort(_rng(p.seed, SAMPLE, key).choice(idx, size=p.max_per_category, replace=False))

