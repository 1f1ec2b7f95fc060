"""Checking and cleaning the texts handed to an embedder, before a tokenizer sees them.

Policy (documented in docs/embeddings.md):

- ``str`` is embedded as is. Empty and whitespace-only texts are embedded as the empty text
  (the model still sees its special tokens, so they get one well-defined vector) and counted
  in ``stats["empty_texts"]``: refusing them would make one blank row in a corpus fail a
  whole grid, while silently dropping them would misalign scores and labels.
- ``bytes``/``bytearray`` are decoded as UTF-8 with replacement characters; the texts that
  needed a replacement are counted in ``stats["invalid_utf8"]`` so bad encodings show in the record.
  ``str`` holding lone surrogates (bytes decoded with ``surrogateescape``) get the same treatment.
- Anything else (None, numbers, NaN from a CSV column) is a ``DataError`` naming the position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from omniad.errors import DataError, short_repr


@dataclass
class CleanTexts:
    texts: list[str]
    empty: int
    decoded_bytes: int
    invalid_utf8: int


def clean_texts(texts: object, where: str) -> CleanTexts:
    if isinstance(texts, (str, bytes, bytearray)):
        raise DataError(f"{where}: expected a sequence of texts, got a single {type(texts).__name__}; wrap it in a list")
    if isinstance(texts, np.ndarray):
        if texts.ndim != 1:
            raise DataError(f"{where}: expected a 1-d sequence of texts, got an array of shape {texts.shape}")
        texts = texts.tolist()
    if not isinstance(texts, Sequence):
        try:
            texts = list(texts)  # type: ignore[call-overload]
        except TypeError:
            raise DataError(f"{where}: expected a sequence of texts, got {type(texts).__name__}") from None
    out: list[str] = []
    empty = decoded = invalid = 0
    for i, text in enumerate(texts):
        if isinstance(text, (bytes, bytearray)):
            decoded += 1
            value = bytes(text).decode("utf-8", errors="replace")
            try:
                bytes(text).decode("utf-8")
            except UnicodeDecodeError:
                invalid += 1
            text = value
        elif not isinstance(text, str):
            raise DataError(
                f"{where}: text {i} is {type(text).__name__} {short_repr(text)}, not a string; "
                "drop or fill missing texts before embedding"
            )
        else:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:  # lone surrogates (surrogateescape-decoded bytes): tokenizers refuse them
                invalid += 1
                text = text.encode("utf-8", errors="surrogatepass").decode("utf-8", errors="replace")
        if not text.strip():
            empty += 1
            text = ""
        out.append(text)
    return CleanTexts(out, empty, decoded, invalid)
