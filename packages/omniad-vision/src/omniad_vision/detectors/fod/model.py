"""FOD: spot patch-wise, intra-image and inter-image discrepancies with an I2Correlation block.

After Yao et al., "Focus the Discrepancy: Intra- and Inter-Correlation Learning for Image
Anomaly Detection", ICCV 2023. A transformer block over an image's patch tokens has two
attention branches: the intra-correlation (each patch to the other patches of its image),
learnt towards an RBF-kernel target (normal patches correlate with their spatial neighbours),
and the inter-correlation (each patch, as query, to normal reference patterns as keys and
values), kept focused by an entropy constraint. The fused output reconstructs the input tokens.
A normal patch is reconstructed from its neighbours and its reference pattern; an anomalous
one is not, and its correlations stray from the targets: the score of a patch is its
reconstruction error (1 - cosine) plus the intra-correlation KL divergence from the target and
the inter-correlation entropy, weighted as in the loss.

Simplified, and why: one I2Correlation block on one ViT layer (the paper stacks several on
multi-level CNN features); a patch never attends to itself (the identity would reconstruct any
anomaly); the reference features are ``references`` k-means centres of the training tokens,
position-free, so the same model serves textures, objects and several classes at once (the
paper's references are position-wise averages of the training features of one class).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from omniad.errors import DataError
from omniad.state import Array, declare
from omniad_vision.detectors.fod.params import Params
from omniad_vision.detectors.generalist.base import GeneralistDetector
from omniad_vision.detectors.generalist.prototypes import kmeans_rows
from omniad_vision.training import step_batches, torch_generator


def rbf_target(grid: tuple[int, int], sigma: float) -> torch.Tensor:
    """``(L, L)`` intra-correlation target: softmax-normalised RBF kernel of patch distances, self excluded."""
    h, w = grid
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    pos = torch.stack([yy.flatten(), xx.flatten()], dim=1)
    logits = -torch.cdist(pos, pos).pow(2) / (2.0 * sigma**2)
    logits.fill_diagonal_(-float("inf"))
    return torch.softmax(logits, dim=1)


class I2Correlation(nn.Module):
    """Intra- and inter-correlation attention fused into a reconstruction of the input tokens."""

    def __init__(self, width: int, dim: int, n_patches: int) -> None:
        super().__init__()
        self.embed = nn.Linear(width, dim)
        self.pos = nn.Parameter(torch.zeros(n_patches, dim))
        self.norm = nn.LayerNorm(dim)
        self.q, self.k, self.v = (nn.Linear(dim, dim) for _ in range(3))
        self.fuse = nn.Sequential(nn.Linear(2 * dim, dim), nn.GELU(), nn.Linear(dim, width))

    def forward(self, x: torch.Tensor, refs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``x (B, L, C)``, ``refs (R, C)`` -> reconstruction ``(B, L, C)``, intra ``(B, L, L)``, inter ``(B, L, R)``."""
        if x.shape[1] != self.pos.shape[0]:
            raise DataError(f"FOD: the images give {x.shape[1]} patches but the model was fitted on "
                            f"{self.pos.shape[0]}; score at the fitted image_size")
        h = self.norm(self.embed(x) + self.pos)
        r = self.norm(self.embed(refs))
        q = self.q(h)
        scale = q.shape[-1] ** -0.5
        logits = q @ self.k(h).transpose(1, 2) * scale
        eye = torch.eye(logits.shape[1], dtype=torch.bool, device=logits.device)
        intra = torch.softmax(logits.masked_fill(eye, -float("inf")), dim=2)
        inter = torch.softmax(q @ self.k(r).T * scale, dim=2)
        out = torch.cat([intra @ self.v(h), inter @ self.v(r)], dim=2)
        return self.fuse(out), intra, inter


class FOD(GeneralistDetector):
    """FOD on frozen ViT patch tokens; see the module docstring for what was simplified."""

    Params = Params
    model_attributes = ("references_",)
    #: the normal reference patterns (k-means centres of the training tokens)
    state_spec = declare(references_=Array("r", "c"))

    def make_head(self, width: int) -> nn.Module:
        p: Params = self.params
        if not hasattr(self, "grid_"):
            with torch.inference_mode():
                self.tokens(torch.zeros(1, 3, *self.size, device=self.device))
        h, w = self.grid_
        return I2Correlation(width, p.dim, h * w)

    def check_loaded(self) -> None:
        self.check_width("references_", int(self.references_.shape[1]))

    def terms(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per patch ``(B, L)``: reconstruction error, intra KL divergence from the target, inter entropy."""
        rec, intra, inter = self.head_(tokens, self.references_)
        error = 1.0 - F.cosine_similarity(rec, tokens, dim=2)
        target = self.target_.to(tokens.device)
        kl = (target * (target.clamp_min(1e-12).log() - intra.clamp_min(1e-12).log())).sum(2)
        entropy = -(inter * inter.clamp_min(1e-12).log()).sum(2)
        return error, kl, entropy

    def _train(self, tokens: torch.Tensor, samples: Sequence[Any]) -> None:
        p: Params = self.params
        seed = 0 if self.seed is None else int(self.seed)
        self.references_ = kmeans_rows(tokens.reshape(-1, tokens.shape[2]), p.references, seed).to(self.device)
        self.after_head_load()
        head = self.head_
        optimizer = torch.optim.Adam(head.parameters(), lr=p.lr)
        gen = torch_generator(self.seed)
        losses = []
        head.train()
        for idx in step_batches(len(tokens), p.train_batch_size, p.train_steps, gen):
            error, kl, entropy = self.terms(tokens[idx].to(self.device))
            loss = (error + p.intra_weight * kl + p.inter_weight * entropy).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        self.train_losses_ = losses

    def after_head_load(self) -> None:
        if not hasattr(self, "grid_"):
            with torch.inference_mode():
                self.tokens(torch.zeros(1, 3, *self.size, device=self.device))
        self.target_ = rbf_target(self.grid_, self.params.sigma).to(self.device)

    def patch_scores(self, tokens: torch.Tensor) -> torch.Tensor:
        p: Params = self.params
        error, kl, entropy = self.terms(tokens)
        return error + p.intra_weight * kl + p.inter_weight * entropy
