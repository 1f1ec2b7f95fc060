"""Plain text as a corpus: a ``.txt`` file (one text per line or per paragraph) or a folder of ``.txt`` files.

What people have when they have texts but no table: a dump with one message per line, notes
separated by blank lines, a folder of documents. Such texts carry no labels. The rules match
the table reader's (``reading.py``): undecodable bytes are replaced and counted, a file that is
mostly undecodable is refused, empty texts are dropped and counted (or refused with
``empty_texts='error'``), and what a folder holds besides ``.txt`` files is counted, never
read. Ids are in the user's terms: ``line-<n>`` (the 1-based line a text starts on) for a
file, the path relative to the folder for a folder.
"""

from __future__ import annotations

import io
from pathlib import Path

from omniad.errors import DataError
from omniad_text.datasets.params import TableParams
from omniad_text.datasets.protocol import Corpus
from omniad_text.datasets.reading import decode

SUFFIX = ".txt"


def _pieces(text: str, per: str) -> list[tuple[int, str]]:
    """(first line number, text) of each line, or of each blank-line separated paragraph; blank pieces kept."""
    lines = [line.rstrip("\n") for line in io.StringIO(text, newline=None)]  # \r\n and \r end a line too
    if per == "line":
        return [(n, line) for n, line in enumerate(lines, start=1)]
    out: list[tuple[int, str]] = []
    block: list[str] = []
    start = 0
    for n, line in enumerate(lines, start=1):
        if line.strip():
            if not block:
                start = n
            block.append(line)
        elif block:
            out.append((start, "\n".join(block)))
            block = []
    if block:
        out.append((start, "\n".join(block)))
    return out


def _empty(p: TableParams, where: str, what: str) -> None:
    if p.empty_texts == "error":
        raise DataError(f"{where}: {what} is empty; remove it or set empty_texts='drop'")


def read_plain(path: Path, p: TableParams, where: str) -> Corpus:
    """The texts of a .txt file or of the .txt files under a folder, in file (or sorted path) order."""
    texts: list[str] = []
    ids: list[str] = []
    counts = {"empty_texts_dropped": 0, "replaced_chars": 0}
    if path.is_dir():
        files = sorted((f for f in path.rglob("*") if f.is_file()), key=lambda f: f.relative_to(path).as_posix())
        chosen = [f for f in files if f.suffix.lower() == SUFFIX]
        counts["files_not_txt_skipped"] = len(files) - len(chosen)
        if not chosen:
            raise DataError(f"{where}: {path} holds no {SUFFIX} files (its subfolders searched too); put one text "
                            "in each .txt file, or point 'path' at a CSV/JSONL/parquet table or a .txt file")
        for f in chosen:
            name = f.relative_to(path).as_posix()
            text, replaced = decode(f.read_bytes(), p.encoding, f"{where}: {name}")
            counts["replaced_chars"] += replaced
            text = text.removeprefix("\ufeff")
            if not text.strip():
                _empty(p, where, f"file {name}")
                counts["empty_texts_dropped"] += 1
                continue
            texts.append(text)
            ids.append(name)
        counts["rows_read"] = len(chosen)
    else:
        text, replaced = decode(path.read_bytes(), p.encoding, where)
        counts["replaced_chars"] = replaced
        pieces = _pieces(text.removeprefix("\ufeff"), p.one_text_per)
        for line, piece in pieces:
            if not piece.strip():
                _empty(p, where, f"line {line}")
                counts["empty_texts_dropped"] += 1
                continue
            texts.append(piece)
            ids.append(f"line-{line}")
        counts["rows_read"] = len(pieces)
    if not texts:
        raise DataError(f"{where}: {path.name} holds no text (every {'file' if path.is_dir() else p.one_text_per} "
                        "is empty or blank)")
    counts["texts_with_replacements"] = sum(1 for t in texts if "\ufffd" in t)
    return Corpus(texts, [""] * len(texts), ids, counts, str(path))
