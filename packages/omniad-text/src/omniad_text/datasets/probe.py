"""How sure ``text.table`` is that a bare path holds texts (the card's ``probe``; stdlib only, reads a few KB).

``.csv``, ``.txt`` and folders are read by loaders of other modalities too (metric tables,
point files of x y z numbers, image folders). The detector's modality already narrows the
choice; this tells texts from numbers when it does not (an unregistered detector), and ranks a
table with a ``text`` column above one whose text column must be named. It never says 0 for a
readable suffix, so that with a text detector the loader itself explains what is wrong (a
numeric CSV: "no column 'text' (columns: [...])").
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

#: bytes read from the start of a file
HEAD = 65536
#: a cell this long that is not a number reads as text
TEXT_CHARS = 15
SURE, LIKELY, MAYBE, UNLIKELY = 0.9, 0.7, 0.5, 0.05


def _head(path: Path) -> tuple[str, bool]:
    """The start of the file as text, and whether it was cut there (its last line may be partial)."""
    with path.open("rb") as fh:
        data = fh.read(HEAD + 1)
    return data[:HEAD].decode("utf-8", errors="replace").removeprefix("\ufeff"), len(data) > HEAD


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _texty(values: list[str]) -> bool:
    """Cells that are mostly words: not numbers, and long enough to be sentences."""
    cells = [v.strip() for v in values if v and v.strip()]
    if not cells:
        return False
    words = [c for c in cells if not _is_number(c)]
    return len(words) >= 0.8 * len(cells) and sum(len(c) for c in words) / max(1, len(words)) >= TEXT_CHARS


def _lines(text: str) -> float:
    """Plain text: lines of words (likely) or lines of numbers (a point or matrix file: unlikely)."""
    lines = [line for line in text.splitlines() if line.strip()][:50]
    if not lines:
        return UNLIKELY
    numeric = sum(1 for line in lines if all(_is_number(t) for t in line.replace(",", " ").split()))
    return UNLIKELY if numeric >= 0.8 * len(lines) else LIKELY


def _table(text: str, cut: bool, delimiter: str) -> float:
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error:
        return UNLIKELY
    rows = rows[:-1] if cut and len(rows) > 1 else rows
    if not rows:
        return UNLIKELY
    header = [c.strip().lower() for c in rows[0]]
    if "text" in header:
        return SURE
    columns = list(zip(*rows[1:21], strict=False))
    return LIKELY if any(_texty(list(col)) for col in columns) else UNLIKELY


def _jsonl(text: str) -> float:
    """The first object: a ``text`` key (sure), or string values that read as text."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        row = json.loads(first)
    except json.JSONDecodeError:
        return UNLIKELY
    if not isinstance(row, dict):
        return UNLIKELY
    if "text" in row:
        return SURE
    return LIKELY if _texty([v for v in row.values() if isinstance(v, str)]) else UNLIKELY


def text_probe(path: Path) -> float:
    """0.9: a table with a ``text`` column; 0.7: texts found; 0.5: parquet (not opened); 0.05: numbers."""
    path = Path(path)
    if path.is_dir():
        first = next((f for f in sorted(path.rglob("*.txt")) if f.is_file()), None)
        return UNLIKELY if first is None else _lines(_head(first)[0])
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return MAYBE
    text, cut = _head(path)
    if suffix == ".txt":
        return _lines(text)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return _jsonl(text)
    return _table(text, cut, "\t" if suffix == ".tsv" else ",")
