"""The PatchCore forward pass as one ``nn.Module``: image batch -> (image scores, anomaly maps).

The detector scores through this module (with its chunked / faiss neighbour search plugged
in) and ``export_onnx`` traces the same module with a plain matrix-product search, so the
exported model and the Python one cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from omniad_vision.backbones import FeatureExtractor
from omniad_vision.features import patch_embedding
from omniad_vision.neighbors import squared_distances
from omniad_vision.preprocess import patch_scores_to_maps

Search = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


class PatchCoreGraph(nn.Module):
    def __init__(
        self,
        extractor: FeatureExtractor,
        bank: torch.Tensor,
        support: torch.Tensor,
        *,
        pool_size: int,
        reweight: bool,
        image_size: tuple[int, int],
        blur_sigma: float,
        interpolation: str,
    ) -> None:
        super().__init__()
        self.extractor = extractor
        self.register_buffer("bank", bank)
        self.register_buffer("support", support)  # (M, b): the b nearest bank rows of each bank row
        self.pool_size = pool_size
        self.reweight = reweight
        self.image_size = image_size
        self.blur_sigma = blur_sigma
        self.interpolation = interpolation

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, D, h, w)`` patch features of a normalised image batch."""
        return patch_embedding(self.extractor(x), self.pool_size)

    def exact_search(self, queries: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        d2 = squared_distances(queries, self.bank)
        d2, idx = d2.min(dim=1)
        return d2.sqrt(), idx

    def image_scores(self, dist: torch.Tensor, idx: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
        """Paper Eq. 7: s = (1 - exp(||m_test* - m*||) / sum_{m in N_b(m*)} exp(||m_test* - m||)) * s*."""
        s_star, best = dist.max(dim=1)
        if not self.reweight or self.support.shape[1] <= 1:
            return s_star
        rows = torch.arange(dist.shape[0], device=dist.device)
        m_test = queries[rows, best]  # (B, D): the most anomalous test patch
        support = self.support[idx[rows, best]]  # (B, b): N_b(m*), m* included
        d_support = torch.linalg.vector_norm(m_test[:, None, :] - self.bank[support], dim=2)
        weight = 1.0 - torch.exp(s_star - torch.logsumexp(d_support, dim=1))
        return weight * s_star

    def score(self, x: torch.Tensor, search: Search | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        emb = self.embed(x)
        b, d, h, w = emb.shape
        queries = emb.permute(0, 2, 3, 1).reshape(b, h * w, d)
        dist, idx = (search or self.exact_search)(queries.reshape(b * h * w, d))
        dist, idx = dist.reshape(b, h * w), idx.reshape(b, h * w)
        scores = self.image_scores(dist, idx, queries)
        maps = patch_scores_to_maps(dist.reshape(b, h, w), self.image_size, self.blur_sigma, self.interpolation)
        return scores, maps

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.score(x)
