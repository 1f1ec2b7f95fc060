"""Tables of events: read a CSV / TSV / parquet file and turn chosen columns into an ``EventTable``.

One routine for every loader, so repairs are the same and counted the same way
(``Subset.meta["counts"]``): empty entity cells are missing (``missing_entities``), a numeric
cell holding text is missing (``numeric_text_cells``, first example named in a warning), empty
numeric cells are missing (``missing_numbers``), infinite ones (CIC-IDS' ``Infinity`` rates) take
the column's largest or smallest finite value (``infinite_numbers``), fields with one value in the whole table are
counted (``constant_fields``: harmless, but they carry no information; their names are returned
and warned), rows repeating the header line are dropped (``repeated_header_rows``). Counts are whole numbers: the runner's data notes show them.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from omniad.errors import ConfigError, DataError
from omniad_events.events import EventSchema, EventTable, entity_text

SUFFIX_FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet", ".txt": "csv"}


def read_frame(
    path: Path, fmt: str, where: str, columns: list[str] | None = None, delimiter: str | None = None
) -> Any:
    """The file as a DataFrame of strings (csv/tsv) or as stored (parquet); one clear line on failure."""
    import pandas as pd

    if fmt == "auto":
        fmt = SUFFIX_FORMATS.get(path.suffix.lower(), "")
        if not fmt:
            raise ConfigError(
                f"{where}: cannot tell the format of {path.name} from its suffix; set format='csv', "
                "'tsv' or 'parquet'"
            )
    if not path.is_file():
        raise DataError(f"{where}: {path} is not a file; point 'path' at a CSV, TSV or parquet table")
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(path)
            if columns is not None:
                raise ConfigError(
                    f"{where}: 'columns' names the columns of a headerless csv/tsv file; a parquet "
                    "file names its own, leave it unset"
                )
        else:
            sep = delimiter or ("\t" if fmt == "tsv" else ",")
            frame = pd.read_csv(
                path,
                sep=sep,
                header=None if columns else "infer",
                names=columns,
                dtype=str,
                keep_default_na=False,
                skipinitialspace=True,
            )
    except ImportError as exc:
        raise DataError(
            f"{where}: reading parquet needs pyarrow ({exc}); pip install 'omniad-events[parquet]'"
        ) from None
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(
            f"{where}: cannot read {path.name} as {fmt} ({first}); check the file and 'format'"
        ) from None
    if len(frame) == 0:
        raise DataError(f"{where}: {path.name} has no data rows")
    names = [str(c).strip() for c in frame.columns]
    twins = sorted({n for n in names if names.count(n) > 1})
    if twins:
        raise DataError(f"{where}: columns {twins} appear more than once once surrounding spaces are dropped; "
                        "rename them in the file")
    frame.columns = names
    if fmt != "parquet" and columns is None:
        frame = _drop_repeated_headers(frame, where)
    return frame


def _drop_repeated_headers(frame: Any, where: str) -> Any:
    """Rows that repeat the header line, as CSE-CIC-IDS2018's daily CSVs hold where files were
    concatenated, are dropped and named in a warning: read as data, each would add a text cell to every
    numeric column and a class named ``Label``. ``frame.attrs["row_numbers"]`` keeps the file's data-row
    numbers of the rows left, so rows are still named as in the file."""
    repeated = np.ones(len(frame), dtype=bool)
    for name in frame.columns:
        repeated &= (frame[name].astype(str).str.strip() == name).to_numpy()
    n = int(repeated.sum())
    if n == 0:
        return frame
    if n == len(frame):
        raise DataError(f"{where}: every data row repeats the header line; the file holds no events")
    first = int(np.flatnonzero(repeated)[0])
    warnings.warn(f"{where}: {n} row(s) repeat the header line (first: data row {first + 1}); dropped, "
                  "counted as repeated_header_rows", UserWarning, stacklevel=3)
    rows = np.flatnonzero(~repeated)
    frame = frame.iloc[rows].reset_index(drop=True)
    frame.attrs["row_numbers"] = rows.tolist()
    frame.attrs["repeated_header_rows"] = n
    return frame


def require_columns(frame: Any, names: list[str], param: str, where: str) -> None:
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise DataError(
            f"{where}: no columns {missing} (named by {param}); the table has {list(frame.columns)[:20]}"
        )


def _numbers(values: Any, name: str, counts: dict[str, int], where: str) -> np.ndarray:
    import pandas as pd

    raw = pd.Series(values)
    text = raw.astype(str).str.strip()
    empty = raw.isna() | text.eq("") | text.str.lower().isin(("nan", "na", "null", "none", "?"))
    out = pd.to_numeric(raw.where(~empty), errors="coerce").to_numpy(dtype=np.float64, copy=True)
    infinite = np.isinf(out)
    if infinite.any():  # CIC-IDS rates over a zero duration: extreme, not unknown
        finite = out[np.isfinite(out)]
        counts["infinite_numbers"] = counts.get("infinite_numbers", 0) + int(infinite.sum())
        if finite.size:
            out[infinite & (out > 0)], out[infinite & (out < 0)] = finite.max(), finite.min()
        else:
            out[infinite] = np.nan
        warnings.warn(
            f"{where}: numeric column {name!r} holds {int(infinite.sum())} infinite cells (first: row "
            f"{int(np.flatnonzero(infinite)[0]) + 1}); read as the column's largest (smallest) finite value in "
            "this file" + ("" if finite.size else ", and as missing here: it has none"),
            UserWarning,
            stacklevel=3,
        )
    bad = np.flatnonzero(~empty.to_numpy() & ~np.isfinite(out) & ~infinite)
    counts["missing_numbers"] += int(empty.sum())
    if bad.size:
        counts["numeric_text_cells"] += int(bad.size)
        warnings.warn(
            f"{where}: numeric column {name!r} holds {bad.size} cells that are not numbers (first: row "
            f"{int(bad[0]) + 1}, {str(raw.iloc[bad[0]])[:40]!r}); read as missing",
            UserWarning,
            stacklevel=3,
        )
        out[bad] = np.nan
    return out


def frame_to_table(
    frame: Any,
    entities: list[str],
    numeric: list[str],
    where: str,
    time: str | None = None,
    key: str | None = None,
) -> tuple[EventTable, dict[str, int], list[str]]:
    """The chosen columns of ``frame`` as events, the counts of what was repaired, and the fields that
    hold one value in every row."""
    counts: dict[str, int] = {
        "rows": len(frame),
        "missing_entities": 0,
        "missing_numbers": 0,
        "numeric_text_cells": 0,
    }
    schema = EventSchema(tuple(entities), tuple(numeric), time, key)
    ents = np.empty((len(frame), len(entities)), dtype=object)
    for j, name in enumerate(entities):
        col = [entity_text(v) for v in frame[name].tolist()]
        counts["missing_entities"] += sum(v is None for v in col)
        ents[:, j] = col
    nums = np.empty((len(frame), len(numeric)))
    for j, name in enumerate(numeric):
        nums[:, j] = _numbers(frame[name].to_numpy(), name, counts, where)
    constant = [n for j, n in enumerate(entities) if len(set(ents[:, j])) == 1]
    constant += [n for j, n in enumerate(numeric) if np.unique(nums[:, j][np.isfinite(nums[:, j])]).size <= 1]
    if len(frame) < 2:
        constant = []
    if constant:
        counts["constant_fields"] = len(constant)
        warnings.warn(f"{where}: fields {constant[:10]} hold one value in every row: they carry no information",
                      UserWarning, stacklevel=2)
    times = frame[time].tolist() if time else None
    keys = [entity_text(v) for v in frame[key].tolist()] if key else None
    return EventTable(schema, ents, nums, times, keys), counts, constant
