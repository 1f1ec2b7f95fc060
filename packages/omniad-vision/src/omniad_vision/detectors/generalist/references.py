"""Residual features against normal references (ResAD, Yao et al. NeurIPS 2024; NAGL).

A patch feature minus its nearest normal reference patch of the same class is small for any
normal patch, whatever the class: the class-specific content cancels, which is what lets a
model trained on residuals of some classes score classes it never saw.

The references of an image are the ``k`` fitted normal images closest to it by the cosine of
their mean tokens (a retrieval step instead of the papers' class labels, so the detectors take
unlabelled images): in the cross-class protocol, the scored category's few-shot normal shots
that the dataset adds to the training split; at fit, every other training image, the image
itself left out.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def descriptors(tokens: torch.Tensor) -> torch.Tensor:
    """``(B, L, C)`` tokens -> ``(B, C)`` unit-length mean tokens (the retrieval key of an image)."""
    return F.normalize(tokens.mean(dim=1), dim=1)


def nearest_images(query: torch.Tensor, bank: torch.Tensor, k: int, *, leave_out_self: bool = False) -> torch.Tensor:
    """``(B, k)`` indices of the ``k`` bank descriptors most cosine-similar to each query descriptor.

    ``leave_out_self``: the queries are the bank itself (row i never picks image i).
    """
    sim = query @ bank.T
    if leave_out_self:
        sim.fill_diagonal_(-float("inf"))
    return sim.topk(k, dim=1).indices


def residuals(tokens: torch.Tensor, bank: torch.Tensor, refs: torch.Tensor) -> torch.Tensor:
    """``tokens (B, L, C)`` minus each token's nearest patch among its images' reference patches.

    ``bank (N, L', C)`` holds the reference images' tokens, ``refs (B, k)`` which of them each
    image uses.
    """
    out = torch.empty_like(tokens)
    for i in range(tokens.shape[0]):
        pool = bank[refs[i]].reshape(-1, bank.shape[2])
        nearest = torch.cdist(tokens[i], pool).argmin(dim=1)
        out[i] = tokens[i] - pool[nearest]
    return out
