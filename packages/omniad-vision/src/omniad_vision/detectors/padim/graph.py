"""PaDiM forward pass as one ``nn.Module`` (scoring and ONNX export share it)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from omniad_vision.backbones import FeatureExtractor
from omniad_vision.preprocess import patch_scores_to_maps


def padim_embedding(features: list[torch.Tensor], channels: torch.Tensor) -> torch.Tensor:
    """Layers nearest-upsampled to the first layer's grid, concatenated, then the random
    channel subset: ``(B, d, h, w)``."""
    size = features[0].shape[-2:]
    ups = [features[0]] + [F.interpolate(f, size=size, mode="nearest") for f in features[1:]]
    return torch.cat(ups, dim=1).index_select(1, channels)


class PaDiMGraph(nn.Module):
    def __init__(
        self,
        extractor: FeatureExtractor,
        channels: torch.Tensor,
        mean: torch.Tensor,
        precision: torch.Tensor,
        *,
        image_size: tuple[int, int],
        blur_sigma: float,
    ) -> None:
        super().__init__()
        self.extractor = extractor
        self.register_buffer("channels", channels)  # (d,) indices of the kept channels
        self.register_buffer("mean", mean)  # (P, d)
        self.register_buffer("precision", precision)  # (P, d, d)
        self.image_size = image_size
        self.blur_sigma = blur_sigma

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return padim_embedding(self.extractor(x), self.channels)

    def score(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        emb = self.embed(x)
        b, d, h, w = emb.shape
        delta = emb.reshape(b, d, h * w).permute(0, 2, 1) - self.mean[None]  # (B, P, d)
        left = torch.einsum("bpc,pcd->bpd", delta, self.precision)
        dist = (left * delta).sum(-1).clamp_min(0.0).sqrt()  # Mahalanobis distance per position
        maps = patch_scores_to_maps(dist.reshape(b, h, w), self.image_size, self.blur_sigma, "bilinear")
        return maps.flatten(1).amax(1), maps

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.score(x)
