"""What a text detector's ``fit`` / ``score`` take: one text, a sequence of texts, a column, or a path.

- ``str``: one text; but a string naming an existing file or folder is read as that path (with
  ``text.table``, as ``omniad fit / score`` do), and a string that looks like a path
  (no spaces, a suffix ``text.table`` reads, or a trailing ``/``) but names nothing is an
  error, not a text: scoring the text "data/new.csv" because of a typo would be silent. Wrap a
  string in a list to score it as a text whatever it says; pass a ``Path`` to mean a path.
- ``bytes``: one text (decoded as UTF-8 by the embedder, which counts bad bytes).
- a list / tuple / 1-D array / pandas Series of ``str`` (or ``bytes``): one text each. A
  DataFrame: its ``text`` column, or its only column.
- Any other container fails here, saying what to pass; an item that is not a text fails in
  ``embeddings.texts.clean_texts`` (every text detector embeds through it) before a model is
  loaded, naming its position and type ("text 3 is float nan, not a string": an empty cell of
  a column read by pandas).

``omniad.fit / score / detect`` read a ``str`` source as a path always (the core decides
that before a detector sees it): pass ``[text]`` there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence, Set
from pathlib import Path
from typing import Any

import numpy as np

from omniad.detector import Detector
from omniad.errors import DataError, short_repr

#: suffixes that make a string that names no file look like a mistyped path rather than a text
PATH_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet", ".pq", ".txt")
WHAT = "pass a text (str), a list of texts, a pandas Series of texts, or a path to a table / .txt file / folder"


def names_path(text: str, where: str) -> bool:
    """Whether a ``str`` passed to fit/score means a file or folder (True) or is itself a text (False)."""
    if not text or "\n" in text or len(text) > 1024:
        return False
    path = Path(text).expanduser()
    try:
        if path.exists():
            return True
    except OSError:  # a name the OS refuses (too long, odd bytes) is a text
        return False
    looks = not any(c.isspace() for c in text) and (text.endswith(("/", os.sep)) or path.suffix.lower() in PATH_SUFFIXES)
    if looks:
        where_from = "" if path.is_absolute() else f" (relative to {Path.cwd()})"
        raise DataError(f"{where}: {text!r} looks like a path but does not exist{where_from}; check the path, or pass "
                        f"[{text!r}] to score it as a text")
    return False


def _frame_column(frame: Any, where: str) -> Any:
    columns = [str(c) for c in frame.columns]
    if "text" in columns:
        return frame[frame.columns[columns.index("text")]]
    if len(columns) == 1:
        return frame[frame.columns[0]]
    raise DataError(f"{where}: got a DataFrame with columns {columns[:10]}; pass its text column (df['body']), or "
                    "name that column 'text'")


def coerce_texts(samples: Any, where: str) -> Any:
    """``samples`` as a list of texts (see the module docstring); bad input fails naming what to pass."""
    if isinstance(samples, (str, bytes, bytearray)):
        return [samples]
    if hasattr(samples, "columns") and hasattr(samples, "iloc"):  # a pandas DataFrame (pandas is not imported)
        samples = _frame_column(samples, where)
    if hasattr(samples, "iloc") and hasattr(samples, "tolist"):  # a pandas Series: its values, not its index
        samples = samples.tolist()
    if isinstance(samples, np.ndarray):
        if samples.ndim != 1:
            raise DataError(f"{where}: got an array of shape {samples.shape}; {WHAT} (a 1-D array of texts works)")
        samples = samples.tolist()
    if isinstance(samples, (Mapping, Set)) or not isinstance(samples, Sequence):
        raise DataError(f"{where}: got {type(samples).__name__} {short_repr(samples)}; {WHAT}")
    return samples  # each item is checked by embeddings.texts.clean_texts, before any model is loaded


class TextDetector(Detector):
    """Base of every text detector (not registered): takes texts in the forms listed above."""

    def _as_samples(self, samples: Any, where: str, role: str) -> Any:
        if isinstance(samples, str) and not names_path(samples, where):
            samples = [samples]
        return super()._as_samples(samples, where, role)

    def _coerce(self, samples: Any, where: str) -> Any:
        return coerce_texts(samples, where)
