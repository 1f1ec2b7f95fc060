"""The reference-bank forward pass as one ``nn.Module``: image batch -> (image scores, anomaly maps).

Shared by AnomalyDINO (``lookup_k=1``: cosine distance to the nearest reference token) and
DictAS (``lookup_k>1``: the query rebuilt from its k nearest dictionary entries, weighted by a
softmax over their similarities; residual = cosine distance to the rebuilt token). The detectors
plug their exact (chunked or faiss) search in; ``export_onnx`` traces the module with its plain
matrix-product search, so the exported model and the Python one cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from omniad_vision.backbones import FeatureExtractor
from omniad_vision.detectors.foundation import unit_tokens
from omniad_vision.neighbors import squared_distances
from omniad_vision.preprocess import patch_scores_to_maps

Search = Callable[[torch.Tensor, int], tuple[torch.Tensor, torch.Tensor]]


def top_fraction_mean(scores: torch.Tensor, fraction: float) -> torch.Tensor:
    """Mean of the highest ``fraction`` of each row's values (at least one): AnomalyDINO's image score."""
    flat = scores.flatten(1)
    k = max(1, round(int(flat.shape[1]) * fraction))
    return flat.topk(k, dim=1).values.mean(dim=1)


def rotate(x: torch.Tensor, degrees: int) -> torch.Tensor:
    """Counter-clockwise rotation of an image batch by a multiple of 90 degrees (exact, no resampling)."""
    return torch.rot90(x, k=(degrees // 90) % 4, dims=(2, 3))


def foreground(tokens: torch.Tensor, center: torch.Tensor, axis: torch.Tensor) -> torch.Tensor:
    """``(B, h, w)`` 0/1 mask: positive projection on the first principal axis, dilated by one patch."""
    proj = torch.einsum("bdhw,d->bhw", tokens - center[None, :, None, None], axis)
    mask = (proj > 0).to(tokens.dtype)
    return F.max_pool2d(mask[:, None], 3, stride=1, padding=1)[:, 0]


class ReferenceGraph(nn.Module):
    bank: torch.Tensor
    center: torch.Tensor
    axis: torch.Tensor

    def __init__(self, extractor: FeatureExtractor, bank: torch.Tensor, center: torch.Tensor, axis: torch.Tensor, *,
                 lookup_k: int, temperature: float, masking: bool, top_fraction: float,
                 image_size: tuple[int, int], blur_sigma: float) -> None:
        super().__init__()
        self.extractor = extractor
        self.register_buffer("bank", bank)
        self.register_buffer("center", center)
        self.register_buffer("axis", axis)
        self.lookup_k = min(lookup_k, max(1, bank.shape[0]))
        self.temperature = temperature
        self.masking = masking
        self.top_fraction = top_fraction
        self.image_size = image_size
        self.blur_sigma = blur_sigma

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        return unit_tokens(self.extractor(x))

    def exact_search(self, queries: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        d2, idx = squared_distances(queries, self.bank).topk(k, dim=1, largest=False)
        return d2.sqrt(), idx

    def patch_distances(self, queries: torch.Tensor, search: Search | None = None) -> torch.Tensor:
        """``(n,)`` cosine residual of unit queries ``(n, D)`` against the bank."""
        dist, idx = (search or self.exact_search)(queries, self.lookup_k)
        if self.lookup_k == 1:
            return dist[:, 0].pow(2) / 2.0  # unit vectors: 1 - cos = ||a - b||^2 / 2
        weights = torch.softmax((1.0 - dist.pow(2) / 2.0) / self.temperature, dim=1)  # (n, k)
        rebuilt = torch.einsum("nk,nkd->nd", weights, self.bank[idx])
        return 1.0 - F.cosine_similarity(queries, rebuilt, dim=1)

    def score(self, x: torch.Tensor, search: Search | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        return self.score_tokens(self.tokens(x), search)

    def score_tokens(self, tok: torch.Tensor, search: Search | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``score`` from unit tokens ``(B, D, h, w)`` (a benchmark reuses one image's tokens across fits)."""
        b, d, h, w = tok.shape
        dist = self.patch_distances(tok.permute(0, 2, 3, 1).reshape(-1, d), search).reshape(b, h, w)
        if self.masking:
            dist = dist * foreground(tok, self.center, self.axis)
        maps = patch_scores_to_maps(dist, self.image_size, self.blur_sigma)
        return top_fraction_mean(dist, self.top_fraction), maps

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.score(x)
