"""Pooling token states into one vector per text, on right-padded batches."""

from __future__ import annotations

from typing import Any

import torch

POOLINGS = ("mean", "cls", "max", "last")


def resolve_pooling(requested: str, card_pooling: str | None, is_decoder: bool) -> str:
    """``auto``: the model card's pooling when it has one, last-token for decoders, else mean."""
    if requested != "auto":
        return requested
    if card_pooling is not None:
        return card_pooling
    return "last" if is_decoder else "mean"


def pool(hidden: Any, mask: Any, how: str) -> torch.Tensor:
    """``hidden`` (B, T, D) and ``mask`` (B, T) as torch tensors; returns float32 (B, D)."""
    hidden = hidden.float()
    if how == "cls":
        return hidden[:, 0]
    if how == "last":  # right padding: the last real token sits at length - 1
        last = mask.sum(dim=1).clamp(min=1) - 1
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    if how == "max":
        return hidden.masked_fill(weights == 0, float("-inf")).amax(dim=1)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
