"""How sure ``events.table`` is that a bare path holds events (the card's ``probe``; stdlib only).

A CSV of events mixes words (protocols, services, users) with numbers; a CSV of only numbers
is more likely a series or a feature table (other loaders), a CSV of long sentences texts.
Never 0 for a readable suffix, so that with an event detector the loader explains what is wrong.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

SURE, LIKELY, MAYBE, UNLIKELY = 0.8, 0.6, 0.4, 0.05
HEAD = 65536


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def events_probe(path: Path) -> float:
    path = Path(path)
    if path.is_dir():
        return 0.0
    if path.suffix.lower() in (".parquet", ".pq"):
        return MAYBE
    with path.open("rb") as fh:
        text = fh.read(HEAD).decode("utf-8", errors="replace").removeprefix("\ufeff")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if r][:51]
    except csv.Error:
        return UNLIKELY
    body = rows[1:] if len(rows) > 1 else rows
    if not body or max(len(r) for r in body) < 2:
        return UNLIKELY
    columns = list(zip(*body, strict=False))
    words = [c for c in columns if not all(_is_number(v) for v in c if v.strip())]
    numbers = len(columns) - len(words)
    short = all(sum(len(v) for v in c) / max(1, len(c)) < 24 for c in words)
    if words and numbers and short:
        return SURE
    return LIKELY if words and short else UNLIKELY
