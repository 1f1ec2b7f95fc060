"""UniCon-HA: concentrate the inliers, disperse the virtual outliers, easy-to-hard across depths.

After Wang et al., "Unilaterally Aggregated Contrastive Learning with Hierarchical Augmentation
for Anomaly Detection", ICCV 2023. A projection head on frozen patch tokens is trained with
two contrastive losses: a supervised one that aggregates every inlier view with every other
inlier view (one concentrated normal cluster; outliers only as negatives) and an unsupervised
one that pulls each virtual outlier only towards its own second view, so outliers spread out
instead of forming a cluster of their own. Augmented inliers are re-weighted by their closeness
to the inlier mean (a view the augmentation pushed astray counts less). Hierarchical
augmentation: easy views (the original tokens with feature noise) are aggregated at the first
depth of the head, harder ones (image-level flip / colour / noise) at the second. The score of a
patch is 1 - cosine to the normal concentration (the mean training embedding).

Simplified, and why: the paper trains a ResNet end to end on image-level rotations; here the
ViT stays frozen, only a two-depth MLP head learns, and the virtual outliers are patches inside
synthetic defects (Perlin foreign texture, CutPaste; ``generalist.pseudo``), because rotations
of textures and plates are often normal and anomaly maps need local outliers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from omniad.errors import DataError
from omniad.state import Array, declare
from omniad_vision.detectors.generalist.base import GeneralistDetector
from omniad_vision.detectors.generalist.pseudo import defect_batch, patch_labels
from omniad_vision.detectors.unicon_ha.params import Params
from omniad_vision.preprocess import load_unit_images, normalize
from omniad_vision.training import torch_generator


class TwoDepthHead(nn.Module):
    """Projection head with an embedding at each of two depths (unit length)."""

    def __init__(self, width: int, hidden: int, out_dim: int) -> None:
        super().__init__()
        self.stage1 = nn.Sequential(nn.Linear(width, hidden), nn.GELU())
        self.stage2 = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU())
        self.proj1, self.proj2 = nn.Linear(hidden, out_dim), nn.Linear(hidden, out_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h1 = self.stage1(x)
        return F.normalize(self.proj1(h1), dim=1), F.normalize(self.proj2(self.stage2(h1)), dim=1)


def aggregated_loss(z: torch.Tensor, inlier: torch.Tensor, weights: torch.Tensor, temperature: float) -> torch.Tensor:
    """Supervised contrastive loss over inlier anchors: every other inlier is a positive, outliers only
    appear in the denominators (unilateral aggregation); anchors weighted by ``weights``."""
    sim = z @ z.T / temperature
    self_mask = torch.eye(len(z), dtype=torch.bool, device=z.device)
    log_prob = sim - torch.logsumexp(sim.masked_fill(self_mask, -float("inf")), dim=1, keepdim=True)
    pos = inlier[None, :] & inlier[:, None] & ~self_mask
    per_anchor = -(log_prob * pos).sum(1) / pos.sum(1).clamp_min(1)
    return (per_anchor[inlier] * weights).sum() / weights.sum()


def dispersion_loss(z: torch.Tensor, z2: torch.Tensor, outlier: torch.Tensor, temperature: float) -> torch.Tensor:
    """Unsupervised contrastive loss of the outliers: each one's only positive is its own second view."""
    if not outlier.any():
        return z.new_zeros(())
    anchors = z[outlier]
    logits = anchors @ torch.cat([z2[outlier], z[~outlier]]).T / temperature
    return F.cross_entropy(logits, torch.arange(len(anchors), device=z.device))


def soft_weights(z: torch.Tensor, temperature: float) -> torch.Tensor:
    """Inlier weights (mean 1, no gradient) from the cosine to the inliers' mean direction."""
    with torch.no_grad():
        centre = F.normalize(z.mean(0), dim=0)
        return torch.softmax(z @ centre / temperature, dim=0) * len(z)


def mild_augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Flip, brightness / contrast jitter of 10% and pixel noise of a ``[0, 1]`` batch."""
    b = images.shape[0]
    flip = torch.rand(b, generator=generator) < 0.5
    out = torch.where(flip[:, None, None, None], images.flip(3), images)
    gain = 1.0 + (torch.rand(b, 1, 1, 1, generator=generator) - 0.5) * 0.2
    shift = (torch.rand(b, 1, 1, 1, generator=generator) - 0.5) * 0.2
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    out = (out - mean) * gain + mean + shift + torch.randn(out.shape, generator=generator) * 0.01
    return out.clamp_(0.0, 1.0)


class UniConHA(GeneralistDetector):
    """UniCon-HA on frozen ViT patch tokens; see the module docstring for what was simplified."""

    Params = Params
    model_attributes = ("centre_",)
    #: the normal concentration: mean training embedding at the last depth (unit length)
    state_spec = declare(centre_=Array("d"))

    def make_head(self, width: int) -> nn.Module:
        p: Params = self.params
        return TwoDepthHead(width, p.hidden, p.out_dim)

    def check_loaded(self) -> None:
        if int(self.centre_.shape[0]) != self.params.out_dim:
            raise DataError(f"{self.where}: saved centre_ has {self.centre_.shape[0]} values but out_dim="
                            f"{self.params.out_dim}; re-save the model")

    def _views(self, samples: Sequence[Any], gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokens of the mildly augmented views ``(V, C)`` and of the virtual-outlier patches ``(O, C)``."""
        p: Params = self.params
        images = load_unit_images(samples, self.size, f"{self.where}.fit", p.batch_size)
        rng = np.random.default_rng(0 if self.seed is None else int(self.seed))
        hard, outliers = [], []
        with torch.inference_mode():
            for start in range(0, len(images), p.batch_size):
                batch = images[start : start + p.batch_size]
                for _ in range(p.views):
                    hard.append(self.tokens(normalize(mild_augment(batch, gen), p.mean, p.std).to(self.device)).cpu())
                for _ in range(p.shifted):
                    bad, masks = defect_batch(batch, rng)
                    tok = self.tokens(normalize(bad, p.mean, p.std).to(self.device)).cpu()
                    labels = patch_labels(masks, self.grid_, p.min_defect_fraction) > 0
                    outliers.append(tok[labels])
        c = hard[0].shape[2]
        return torch.cat(hard).reshape(-1, c).clone(), torch.cat(outliers).reshape(-1, c).clone()

    def _train(self, tokens: torch.Tensor, samples: Sequence[Any]) -> None:
        p: Params = self.params
        gen = torch_generator(self.seed)
        easy = tokens.reshape(-1, tokens.shape[2])
        hard, outliers = self._views(samples, gen)
        if len(outliers) == 0:
            raise DataError(f"{self.where}.fit: no synthetic defect covered {p.min_defect_fraction:.0%} of any patch; "
                            "lower min_defect_fraction or raise image_size")
        head: TwoDepthHead = self.head_
        optimizer = torch.optim.Adam(head.parameters(), lr=p.lr)
        n = p.train_patches
        losses = []
        head.train()

        def pick(rows: torch.Tensor) -> torch.Tensor:
            return rows[torch.randint(len(rows), (n,), generator=gen)]

        def noisy(rows: torch.Tensor) -> torch.Tensor:
            return rows + torch.randn(rows.shape, generator=gen) * p.feature_noise

        for _ in range(p.train_steps):
            e, hd, o = pick(easy), pick(hard), pick(outliers)
            x = torch.cat([noisy(e), noisy(e), hd, o]).to(self.device)
            z1, z2 = head(x)
            _, z2_view = head(noisy(o).to(self.device))
            outlier = torch.zeros(len(x), dtype=torch.bool, device=self.device)
            outlier[3 * n :] = True
            hard_part = torch.zeros_like(outlier)
            hard_part[2 * n : 3 * n] = True
            # depth 1: only the easy views are inliers (hard views left out of this depth)
            keep1 = ~hard_part
            in1 = ~outlier[keep1]
            loss = aggregated_loss(z1[keep1], in1, soft_weights(z1[keep1][in1], p.weight_temperature), p.temperature)
            # depth 2: easy and hard views are inliers; outliers dispersed
            in2 = ~outlier
            loss = loss + aggregated_loss(z2, in2, soft_weights(z2[in2], p.weight_temperature), p.temperature)
            full_view = torch.zeros_like(z2)
            full_view[outlier] = z2_view
            loss = loss + dispersion_loss(z2, full_view, outlier, p.temperature)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        head.eval()
        self.train_losses_ = losses
        with torch.no_grad():
            z = torch.cat([head(chunk.to(self.device))[1] for chunk in easy.split(8192)])
        self.centre_ = F.normalize(z.mean(0), dim=0)

    def patch_scores(self, tokens: torch.Tensor) -> torch.Tensor:
        z = self.head_(tokens.reshape(-1, tokens.shape[2]))[1]
        return (1.0 - z @ self.centre_).reshape(tokens.shape[:2])
