"""Tokenising once, counting truncation, and cutting length-sorted, per-batch padded batches."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Tokens:
    ids: list[list[int]]
    type_ids: list[list[int]] | None
    truncated: list[bool]


def tokenize(tokenizer: Any, texts: list[str], max_length: int) -> Tokens:
    enc = tokenizer(texts, truncation=True, max_length=max_length, padding=False,
                    return_attention_mask=False, return_token_type_ids=True)
    encodings = getattr(enc, "encodings", None)
    if encodings:  # tokenizers-backed: the cut-off tail is kept as overflow
        truncated = [bool(e.overflowing) for e in encodings]
    else:
        full = tokenizer(texts, truncation=False, padding=False, return_attention_mask=False)["input_ids"]
        truncated = [len(ids) > max_length for ids in full]
    type_ids = enc.get("token_type_ids")
    return Tokens(list(enc["input_ids"]), list(type_ids) if type_ids is not None else None, truncated)


def _pad_id(tokenizer: Any) -> int:
    for name in ("pad_token_id", "eos_token_id", "unk_token_id"):
        value = getattr(tokenizer, name, None)
        if isinstance(value, int):
            return value
    return 0


def length_sorted_batches(tokens: Tokens, batch_size: int, tokenizer: Any) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """(original positions, right-padded batch) with the longest texts first, so memory fails early."""
    lengths = np.array([len(ids) for ids in tokens.ids])
    order = np.argsort(-lengths, kind="stable")
    pad = _pad_id(tokenizer)
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        width = max(1, int(lengths[chunk].max()))
        ids = np.full((len(chunk), width), pad, dtype=np.int64)
        mask = np.zeros((len(chunk), width), dtype=np.int64)
        types = np.zeros((len(chunk), width), dtype=np.int64)
        for row, i in enumerate(chunk):
            k = lengths[i]
            ids[row, :k] = tokens.ids[i]
            mask[row, :k] = 1
            if tokens.type_ids is not None:
                types[row, :k] = tokens.type_ids[i]
        yield chunk, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
