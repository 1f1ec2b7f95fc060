"""Any table of events (``events.table``): which columns are entities, numbers, label, time, key.

With ``split="random"`` (a benchmark) a seeded ``train_fraction`` of the normal rows trains and
the rest and the anomalies test; with ``split="all"`` (what ``omniad fit / score / detect`` open
a bare path with) every row is scored and the rows not labelled anomalous train, labels
optional. Columns not named are typed by their cells: numbers (empty cells and a stray text cell aside) make a
numeric field, anything else an entity type. Repairs are counted in ``Subset.meta["counts"]``
(``reading.frame_to_table``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from omniad.data import Split, Subset, whole_subset
from omniad.errors import ConfigError, DataError
from omniad.sources import check_fitted_columns
from omniad_events.datasets.base import EventDataset
from omniad_events.datasets.columns import left_out_reason
from omniad_events.datasets.params import TableParams
from omniad_events.datasets.reading import frame_to_table, read_frame, require_columns

LABEL = "label"
_NORMAL = {"0", "false", "normal", "no", "n", "benign"}
_ANOMALOUS = {"1", "true", "anomaly", "anomalous", "abnormal", "yes", "y", "attack", "malicious"}
#: in a label column of class names, the names of normal traffic (any case: CIC-IDS ``BENIGN``,
#: NSL-KDD ``normal``, UNSW-NB15's ``attack_cat`` ``Normal``, KDD Cup 1999's ``normal.`` with its full
#: stop); every other name is an attack class
NORMAL_NAMES = frozenset({"normal", "benign"})


def _flag(text: str) -> str:
    text = text.strip().lower()
    return text[:-2] if text.endswith(".0") else text


def parse_label(value: Any, where: str, row: int) -> int:
    text = _flag(str(value))
    if text in _NORMAL:
        return 0
    if text in _ANOMALOUS:
        return 1
    raise DataError(
        f"{where}: row {row + 1}: label {value!r} is not 0/1, true/false or normal/anomaly, and no label "
        "is named normal or benign; set normal_labels to the values that are normal if the column holds names"
    )


def class_names(values: list[Any]) -> set[str] | None:
    """The normal names of a label column of class names (``BENIGN`` beside ``DDoS``, ``PortScan``), or None
    when it reads as 0/1 flags or names no normal class. A flag column holding ``normal`` and ``attack``
    stays a flag column."""
    texts = {str(v).strip() for v in values}
    if all(_flag(t) in _NORMAL | _ANOMALOUS for t in texts):
        return None
    return {t for t in texts if t.lower().rstrip(".") in NORMAL_NAMES} or None


def _label_column(frame: Any) -> str | None:
    """The column named ``label`` in any case (``Label`` in CIC-IDS exports), if there is one."""
    return next((c for c in frame.columns if str(c).strip().lower() == LABEL), None)


def _numeric_cells(values: Any) -> bool:
    """Numbers, but for a stray text cell or two (at most 5%, fewer than the numbers): those are read as
    missing and counted (``numeric_text_cells``) rather than turning the column into an entity type."""
    import pandas as pd

    text = pd.Series(values).astype(str).str.strip()
    text = text[~text.str.lower().isin(("", "nan", "na", "null", "none", "?"))]
    numbers = int(pd.to_numeric(text, errors="coerce").notna().sum())
    other = len(text) - numbers
    return numbers > other and other <= max(1, int(0.05 * len(text)))


class EventTableDataset(EventDataset):
    Params = TableParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fitted: dict[str, list[str]] | None = None  # the fit data's fields, from import_source_state
        self._found: dict[str, list[str]] | None = None  # the fields reading found, for export_source_state
        self._normal: set[str] | None = None  # the fit data's normal class names, from import_source_state
        self._found_normal: list[str] | None = None  # the normal class names reading found

    def _columns(self, frame: Any, label: str | None, where: str) -> tuple[list[str], list[str], dict[str, str]]:
        p = self.params
        if self._fitted is not None:  # a model scores this file: its fit data fixed the fields
            return self._fitted_columns(frame, label, where)
        reserved = {c for c in (label, p.time_column, p.key_column, p.id_column) if c}
        named = [*(p.entity_columns or []), *(p.numeric_columns or [])]
        require_columns(frame, [*reserved, *named], "the column parameters", where)
        clash = sorted(set(named) & reserved)
        if clash:
            raise ConfigError(
                f"{where}: columns {clash} are named as features and as label/time/key/id; name each once"
            )
        rest = [c for c in frame.columns if c not in reserved and c not in named]
        entities = list(p.entity_columns) if p.entity_columns is not None else []
        numeric = list(p.numeric_columns) if p.numeric_columns is not None else []
        left_out: dict[str, str] = {}
        for c in rest:
            values = frame[c].to_numpy()
            is_number = _numeric_cells(values)
            if (p.numeric_columns if is_number else p.entity_columns) is not None:
                continue  # the user listed that kind of column: the rest of it is not wanted
            if (why := left_out_reason(c, values, is_number)) is not None:
                left_out[c] = why
                warnings.warn(f"{where}: column {c!r} is left out of the features: {why}", UserWarning, stacklevel=3)
            else:
                (numeric if is_number else entities).append(c)
        if not entities and not numeric:
            kept = f"; left out: {sorted(left_out)}" if left_out else ""
            raise DataError(
                f"{where}: no feature columns left (columns: {list(frame.columns)[:20]}{kept}); name "
                "entity_columns / numeric_columns"
            )
        return entities, numeric, left_out

    def _fitted_columns(self, frame: Any, label: str | None,
                        where: str) -> tuple[list[str], list[str], dict[str, str]]:
        """The model's fields, by name: a new file is not typed again (a 25-row file whose every source
        address differs would lose a field the model needs)."""
        assert self._fitted is not None
        p = self.params
        entities, numeric = self._fitted["entities"], self._fitted["numeric"]
        check_fitted_columns(list(frame.columns), [*entities, *numeric],
                             (label, p.time_column, p.key_column, p.id_column), where, "fields")
        return list(entities), list(numeric), {}

    # -- what a model keeps of how its data was read ----------------------------------------
    def export_source_state(self) -> dict[str, Any] | None:
        """The fields the fit data was read with (typed by their cells, columns left out), and the normal
        class names its label column was read with, so new files (one of attacks only, too) are read alike."""
        if self._found is None:
            return None
        state: dict[str, Any] = {k: list(v) for k, v in self._found.items()}
        if self._found_normal is not None:
            state["normal_labels"] = list(self._found_normal)
        return state

    def import_source_state(self, state: dict[str, Any]) -> None:
        ok = isinstance(state, dict) and all(
            isinstance(state.get(k), list) and all(isinstance(c, str) for c in state[k]) for k in ("entities", "numeric"))
        if not ok or not (state["entities"] or state["numeric"]):
            raise DataError(f"{self.where}: the model's saved source state {state!r} does not name its fields "
                            "(lists 'entities' and 'numeric' of column names); refit the model")
        self._fitted = {"entities": list(state["entities"]), "numeric": list(state["numeric"])}
        names = state.get("normal_labels")
        if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            raise DataError(f"{self.where}: the model's saved source state has normal_labels {names!r}, not a "
                            "list of names; refit the model")
        self._normal = None if names is None else set(names)

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        if p.path is None:
            raise ConfigError(
                f"{self.where}: parameter 'path' is required (a CSV, TSV or parquet table of events)"
            )
        path = Path(p.path).expanduser()
        if not path.exists():
            raise ConfigError(
                f"{self.where}: path={str(path)!r} does not exist; point 'path' at a table of events"
            )
        where = f"{self.where}: {path.name}"
        frame = read_frame(path, p.format, where, p.columns, p.delimiter)
        label = p.label_column or (_label_column(frame) if p.split == "all" else None)
        entities, numeric, left_out = self._columns(frame, label, where)
        self._found = {"entities": list(entities), "numeric": list(numeric)}
        table, counts, constant = frame_to_table(frame, entities, numeric, where, p.time_column, p.key_column)
        if left_out:
            counts["left_out_columns"] = len(left_out)
        if frame.attrs.get("repeated_header_rows"):
            counts["repeated_header_rows"] = int(frame.attrs["repeated_header_rows"])
        ids = (
            [str(v) for v in frame[p.id_column].tolist()]
            if p.id_column
            else [f"row-{i}" for i in frame.attrs.get("row_numbers", range(len(frame)))]
        )
        meta: dict[str, Any] = {"path": str(path), "entities": entities, "numeric": numeric,
                                "left_out": left_out, "constant_fields": constant}
        labels = cats = None
        if p.normal_labels is not None and label is None:
            raise ConfigError(
                f"{where}: normal_labels is given but the table has no column named 'label' (columns: "
                f"{list(frame.columns)[:20]}); set label_column"
            )
        if label is not None:
            raw = frame[label].tolist()
            normal = ({str(v).strip() for v in p.normal_labels} if p.normal_labels is not None
                      else self._normal or class_names(raw))
            if normal is not None:
                cats = [str(v).strip() for v in raw]
                if p.normal_labels is None and self._normal is None:
                    self._found_normal = sorted(normal)
                    others = sorted(set(cats) - normal)
                    warnings.warn(
                        f"{where}: label column {label!r} holds class names: rows {sorted(normal)} are read as "
                        f"normal, the other {'class' if len(others) == 1 else f'{len(others)} classes'} ({', '.join(others[:5])}"
                        f"{', ...' if len(others) > 5 else ''}) as anomalies and kept as categories; set "
                        "normal_labels to choose the normal ones", UserWarning, stacklevel=2)
                labels = np.array([c not in normal for c in cats], dtype=np.int8)
                if p.split == "random" and not (labels == 0).any():  # a file scored may be all attacks
                    raise DataError(
                        f"{where}: no row of {label!r} is one of normal_labels {sorted(normal)} (values: "
                        f"{sorted(set(cats))[:10]})"
                    )
            else:
                labels = np.array([parse_label(v, where, i) for i, v in enumerate(raw)], dtype=np.int8)
            meta["label_column"] = label
        if p.split == "all":
            meta["counts"] = counts
            subset = whole_subset(path.stem, table, ids=ids, labels=labels, meta=meta)
            if cats is not None:
                subset.test.meta["categories"] = cats
            yield subset
            return
        assert labels is not None
        rng = np.random.default_rng(p.seed)
        normal_rows = rng.permutation(np.flatnonzero(labels == 0))
        n_train = round(p.train_fraction * len(normal_rows))
        if n_train < 1 or (n_train == len(normal_rows) and not (labels == 1).any()):
            raise DataError(
                f"{where}: {len(normal_rows)} normal rows cannot make a train split and a test split; "
                "give more rows, or use split='all'"
            )
        train_idx = np.sort(normal_rows[:n_train])
        test_idx = np.sort(np.r_[normal_rows[n_train:], np.flatnonzero(labels == 1)]).astype(np.int64)
        meta["counts"] = counts
        test_meta = {} if cats is None else {"categories": [cats[i] for i in test_idx]}
        yield Subset(
            name=path.stem,
            train=Split(
                samples=table.take(train_idx),
                labels=np.zeros(len(train_idx), np.int8),
                ids=[ids[i] for i in train_idx],
            ),
            test=Split(
                samples=table.take(test_idx),
                labels=labels[test_idx],
                ids=[ids[i] for i in test_idx],
                meta=test_meta,
            ),
            meta=meta,
        )
