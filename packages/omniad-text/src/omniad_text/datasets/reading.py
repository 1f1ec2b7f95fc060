"""Reading text tables (CSV, JSONL, parquet) with every repair counted.

Real corpora are messy: a scraped file holds Latin-1 bytes, a row has an empty text, a
column is named ``body`` instead of ``text``. Every loader reads through ``read_table`` so
the same rules hold everywhere: bytes that do not decode are replaced (U+FFFD) and counted,
a file that is mostly undecodable is refused (it is not text), a missing column fails
naming the columns that exist. The stdlib reads CSV and JSONL (pandas is not a dependency,
and a text table needs no type inference); parquet needs pyarrow (extra ``parquet``).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import sys
import warnings
from pathlib import Path
from typing import Any, Literal

from omniad.errors import ConfigError, DataError, MissingDependencyError
from omniad.shared import SHARED_ENV, shared_data_root  # noqa: F401  (re-exported for the loaders)

REPLACEMENT = "\ufffd"
#: above this share of replaced characters a file is refused as "not text in this encoding"
MAX_GARBAGE_FRACTION = 0.3
Format = Literal["auto", "csv", "tsv", "jsonl", "parquet"]
SUFFIX_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
#: delimiters a header cell may betray when the file was read with another one
_DELIMITER_NAMES = {"\t": "tab", ";": "semicolon", "|": "pipe", ",": "comma"}
#: rows of a file looked at to tell its delimiter
SNIFF_ROWS = 50
#: bytes of a file of unknown format read to suggest one
SNIFF_BYTES = 65536


class TextRepairWarning(UserWarning):
    """Reading a text table replaced undecodable bytes or dropped rows (counted in ``Subset.meta["counts"]``)."""


class TextFormatWarning(UserWarning):
    """A ``.csv`` file was read with another delimiter than the comma, because its rows split evenly on that one."""


def check_encoding(name: str) -> str:
    """Validate a codec name early (a typo should fail at config time, not mid-file)."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ValueError(
            f"unknown encoding {name!r}; use a Python codec name such as 'utf-8' or 'latin-1'"
        ) from None


def require_file(path: Path | None, param: str, where: str) -> Path:
    if path is None:
        raise ConfigError(f"{where}: parameter {param!r} is required (a CSV, JSONL or parquet file)")
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(
            f"{where}: {param}={str(path)!r} is not a file; point {param!r} at a CSV, TSV, JSONL or parquet file"
        )
    return path


def decode(data: bytes, encoding: str, where: str) -> tuple[str, int]:
    """The text and how many characters had to be replaced because they did not decode."""
    try:
        return data.decode(encoding), 0
    except UnicodeDecodeError:
        pass
    text = data.decode(encoding, errors="replace")
    genuine = data.count(REPLACEMENT.encode(encoding, errors="ignore") or b"\x00\x00\x00\x00")
    replaced = text.count(REPLACEMENT) - genuine
    if text and replaced / len(text) > MAX_GARBAGE_FRACTION:
        raise DataError(
            f"{where}: {replaced} of {len(text)} characters do not decode as {encoding}; "
            "set 'encoding' to the file's encoding (e.g. 'latin-1')"
        )
    return text, replaced


def file_format(path: Path, fmt: Format, where: str) -> str:
    if fmt != "auto":
        return fmt
    found = SUFFIX_FORMATS.get(path.suffix.lower())
    if found is None:
        raise ConfigError(
            f"{where}: cannot tell the format of {path.name} from its suffix; set format='csv', 'tsv', 'jsonl' or "
            f"'parquet' (and delimiter for a CSV not separated by commas){format_hint(path)}"
        )
    return found


def _even_width(text: str, delimiter: str) -> int:
    """How many fields each of the first rows has when split on ``delimiter``; 0 when they differ."""
    csv.field_size_limit(sys.maxsize)
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        widths = {len(row) for row in itertools.islice(rows, SNIFF_ROWS) if row}
    except csv.Error:
        return 0
    return widths.pop() if len(widths) == 1 else 0


def sniff_delimiter(text: str) -> str | None:
    """The delimiter the first rows split evenly on, into 2+ fields each; the comma first, None when unclear.

    Not ``csv.Sniffer``: it guesses from character frequencies, and on rows of prose it picks
    letters or spaces. A table's rows all have the same number of fields; a text column makes
    the count vary for any delimiter its texts contain (the commas of an SMS), so the one
    delimiter on which the count stays constant is the file's. Two candidates that both fit
    (a file without commas in its texts and one tab per row, say) leave the choice to the user.
    """
    if _even_width(text, ",") > 1:
        return ","
    fits = [d for d in _DELIMITER_NAMES if d != "," and _even_width(text, d) > 1]
    return fits[0] if len(fits) == 1 else None


def format_hint(path: Path) -> str:
    """'; its rows split evenly on tabs: format='tsv' reads it' for a delimited file of unknown format."""
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return ""
    cut = head.rfind("\n")
    found = sniff_delimiter(head[:cut] if cut > 0 else head)
    if found is None:
        return ""
    how = {"\t": "format='tsv'", ",": "format='csv'"}.get(found, f"format='csv' with delimiter='{found}'")
    return f"; its first rows split evenly on {_DELIMITER_NAMES[found]}s: {how} reads it"


def _delimiter(kind: str, fmt: str, text: str, path: Path, where: str) -> str:
    """Tab for tsv; for a file whose format came from its ``.csv`` suffix, the delimiter its rows split on.

    A ``.csv`` suffix does not make a file comma-separated (spreadsheets write ';' in many
    locales, corpora ship tab-separated ``.csv``); an explicit ``format='csv'`` does, and
    keeps the comma (the missing-column error then names the delimiter that fits).
    """
    if kind == "tsv":
        return "\t"
    found = sniff_delimiter(text) if fmt == "auto" else None
    if found is None or found == ",":
        return ","
    name = _DELIMITER_NAMES[found]
    shown = "\\t" if found == "\t" else found
    warnings.warn(
        f"{where}: {path.name} is read as {name}-separated: its first rows split evenly on {name}s, not "
        f"on commas; set delimiter='{shown}' to say so, or delimiter=',' to read it with commas",
        TextFormatWarning,
        stacklevel=4,
    )
    return found


def check_delimiter(value: str | None) -> str | None:
    """One character, or None for the format's own (comma for csv, tab for tsv)."""
    if value is None:
        return None
    if value in ("\\t", "tab"):  # a tab typed in a TOML/shell string
        return "\t"
    if len(value) != 1 or value in ('"', "\n", "\r"):
        raise ValueError(f"delimiter must be one character such as ',', '\\t', ';' or '|', got {value!r}")
    return value


def _csv_rows(
    text: str, delimiter: str, names: list[str] | None, where: str
) -> tuple[list[dict[str, Any]], list[str]]:
    csv.field_size_limit(sys.maxsize)
    reader = csv.DictReader(io.StringIO(text, newline=""), fieldnames=names, delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise DataError(f"{where}: not a readable CSV ({exc}); check the delimiter and quoting") from None
    if not reader.fieldnames:
        raise DataError(
            f"{where}: the CSV has no header row; the first line must name the columns "
            "(or set 'columns' to name them)"
        )
    return rows, list(reader.fieldnames)


def _jsonl_rows(text: str, where: str) -> tuple[list[dict[str, Any]], list[str]]:
    rows: list[dict[str, Any]] = []
    columns: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{where}: line {number} is not JSON ({exc.msg}); write one object per line"
            ) from None
        if not isinstance(row, dict):
            raise DataError(f"{where}: line {number} is a JSON {type(row).__name__}, not an object")
        rows.append(row)
        columns.update(dict.fromkeys(row))
    return rows, list(columns)


def _parquet_rows(path: Path, where: str) -> tuple[list[dict[str, Any]], list[str]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError(
            f"{where}: reading parquet needs pyarrow; pip install 'omniad-text[parquet]'"
        ) from None
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid/OSError family
        raise DataError(f"{where}: not a readable parquet file ({type(exc).__name__}: {exc})") from None
    return table.to_pylist(), list(table.column_names)


def read_table(
    path: Path,
    fmt: Format,
    encoding: str,
    where: str,
    delimiter: str | None = None,
    names: list[str] | None = None,
) -> tuple[list[dict[str, Any]], list[str], int]:
    """Rows as dicts, the column names, and the number of replaced (undecodable) characters.

    ``delimiter`` (csv/tsv only): None = tab for tsv (and ``.tsv`` files), comma for csv, and
    for a ``.csv`` file read with ``fmt="auto"`` the delimiter its rows split evenly on
    (``sniff_delimiter``; a ``TextFormatWarning`` says when that is not the comma).
    ``names``: the columns of a csv/tsv without a header row (its first line is then data).
    """
    kind = file_format(path, fmt, where)
    if kind not in ("csv", "tsv") and (delimiter is not None or names is not None):
        raise ConfigError(
            f"{where}: 'delimiter' and 'columns' apply to CSV/TSV files, not {kind}; leave them unset"
        )
    if kind == "parquet":
        rows, columns = _parquet_rows(path, where)
        return rows, columns, 0
    text, replaced = decode(path.read_bytes(), encoding, where)
    text = text.removeprefix("\ufeff")
    if kind == "jsonl":
        rows, columns = _jsonl_rows(text, where)
    else:
        sep = delimiter if delimiter is not None else _delimiter(kind, fmt, text, path, where)
        rows, columns = _csv_rows(text, sep, names, where)
    return rows, columns, replaced


def _delimiter_hint(columns: list[str]) -> str:
    """'; the header holds tab characters: ...' when a header cell betrays another delimiter."""
    for char, name in _DELIMITER_NAMES.items():
        if char != "," and any(char in c for c in columns):
            shown = "\\t" if char == "\t" else char
            extra = " or format='tsv'" if char == "\t" else ""
            return (
                f"; the header holds {name} characters, so the file looks {name}-separated: "
                f"set delimiter='{shown}'{extra}"
            )
    if len(columns) == 1 and "," in columns[0]:
        return "; the header holds commas, so the file looks comma-separated: set delimiter=',' (or format='csv')"
    return ""


def require_columns(columns: list[str], wanted: dict[str, str | None], where: str) -> None:
    """Each named column must exist; the error lists the columns the file has (and a likely delimiter)."""
    for param, column in wanted.items():
        if column is not None and column not in columns:
            shown = [c if len(c) <= 60 else c[:57] + "..." for c in columns]
            hint = _delimiter_hint(columns)
            fix = (
                f"{hint} (or set {param!r} to one of the columns)"
                if hint
                else f"; set {param!r} to one of them"
            )
            raise DataError(f"{where}: no column {column!r} (columns: {shown}){fix}")


def cell_text(value: Any) -> str:
    return "" if value is None else str(value)
