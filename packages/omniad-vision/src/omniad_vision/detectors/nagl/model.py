"""NAGL: residuals guided by normal and abnormal references, scored by a learnt anomaly feature.

After "Normal-Abnormal Guided Generalist Anomaly Detection" (Wang et al., 2025, arXiv:2510.00495):
a generalist model that compares a query with normal *and* abnormal references. Its Residual
Mining (RM) turns normal-abnormal reference residuals into interpretable abnormal patterns, and
its Anomaly Feature Learning (AFL) maps a query's residual to an anomaly feature by attending to
those patterns. Here:

- residuals are patch tokens minus the nearest patch of the ``reference_images`` nearest normal
  images (``generalist.references``), class-agnostic as in ResAD;
- RM: ``prototypes`` normal and ``prototypes`` abnormal residual prototypes, initialised by
  k-means of the fitted residuals and trained on;
- AFL: a residual attends to the prototypes; the residual, its distances to the normal and the
  abnormal read-outs and the attention mass on the abnormal side go through an MLP to one
  anomaly logit per patch, trained with class-balanced binary cross-entropy.

Simplified, and why: the abnormal references are synthetic defects (Perlin foreign texture,
CutPaste; ``generalist.pseudo``) pasted on the training images at fit, not real anomalies of
other datasets (none on this machine), so abnormal guidance is mined at fit and kept as
prototypes; scoring needs only normal references (the few normal shots of the scored category
in the cross-class protocol). One ViT layer; no multi-level fusion.
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
from omniad_vision.detectors.generalist.prototypes import kmeans_rows
from omniad_vision.detectors.generalist.pseudo import defect_batch, patch_labels
from omniad_vision.detectors.generalist.references import descriptors, nearest_images, residuals
from omniad_vision.detectors.nagl.params import Params
from omniad_vision.preprocess import load_unit_images, normalize
from omniad_vision.training import torch_generator


class NAGLHead(nn.Module):
    """Residual prototypes (normal rows first) and the anomaly-feature MLP."""

    def __init__(self, width: int, prototypes: int, dim: int) -> None:
        super().__init__()
        self.m = prototypes
        self.prototypes = nn.Parameter(torch.randn(2 * prototypes, width) * 0.01)
        self.query = nn.Linear(width, dim)
        self.key = nn.Linear(width, dim)
        self.mlp = nn.Sequential(nn.Linear(width + 3, dim), nn.GELU(), nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, 1))

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        """``(P, C)`` residuals -> ``(P,)`` anomaly logits."""
        att = torch.softmax(self.query(r) @ self.key(self.prototypes).T / self.query.out_features**0.5, dim=1)
        normal = att[:, : self.m] @ self.prototypes[: self.m] / att[:, : self.m].sum(1, keepdim=True).clamp_min(1e-6)
        abnormal = att[:, self.m :] @ self.prototypes[self.m :] / att[:, self.m :].sum(1, keepdim=True).clamp_min(1e-6)
        extra = torch.stack([(r - normal).norm(dim=1), (r - abnormal).norm(dim=1), att[:, self.m :].sum(1)], dim=1)
        return self.mlp(torch.cat([r, extra], dim=1))[:, 0]


class NAGL(GeneralistDetector):
    """NAGL-style generalist detector on frozen ViT patch tokens; see the module docstring."""

    Params = Params
    model_attributes = ("bank_",)
    #: the fitted images' tokens: the normal reference pool
    state_spec = declare(bank_=Array("n", "l", "c"))

    def make_head(self, width: int) -> nn.Module:
        p: Params = self.params
        return NAGLHead(width, p.prototypes, p.dim)

    def check_loaded(self) -> None:
        self.check_width("bank_", int(self.bank_.shape[2]))

    def _train(self, tokens: torch.Tensor, samples: Sequence[Any]) -> None:
        p: Params = self.params
        where = f"{self.where}.fit"
        n = tokens.shape[0]
        if n < 2:
            raise DataError(f"{where}: got 1 image; residuals need at least 2 normal images (each is compared with "
                            "the others)")
        k = self._limit("reference_images", p.reference_images, n - 1, f"only {n - 1} other normal images are fitted")
        refs = nearest_images(descriptors(tokens), descriptors(tokens), k, leave_out_self=True)
        normal = residuals(tokens, tokens, refs).reshape(-1, tokens.shape[2])
        abnormal, labels = self._pseudo_residuals(samples, tokens, refs)
        seed = 0 if self.seed is None else int(self.seed)
        head: NAGLHead = self.head_
        with torch.no_grad():
            head.prototypes[: p.prototypes] = kmeans_rows(normal, p.prototypes, seed).to(self.device)
            head.prototypes[p.prototypes :] = kmeans_rows(abnormal[labels > 0], p.prototypes, seed).to(self.device)
        negatives = torch.cat([normal, abnormal[labels == 0]])
        positives = abnormal[labels > 0]
        gen = torch_generator(self.seed)
        optimizer = torch.optim.Adam(head.parameters(), lr=p.lr)
        losses = []
        head.train()
        for _ in range(p.train_steps):
            neg = negatives[torch.randint(len(negatives), (min(p.train_patches, len(negatives)),), generator=gen)]
            pos = positives[torch.randint(len(positives), (min(p.train_patches, len(positives)),), generator=gen)]
            logits = head(torch.cat([neg, pos]).to(self.device))
            loss = F.softplus(logits[: len(neg)]).mean() + F.softplus(-logits[len(neg) :]).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        self.train_losses_ = losses
        self.bank_ = tokens.to(self.device)
        self.after_head_load()

    def _pseudo_residuals(
        self, samples: Sequence[Any], tokens: torch.Tensor, refs: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Residuals of synthetic-defect copies of the training images (against the originals' references)
        and their 0/1 patch labels."""
        p: Params = self.params
        where = f"{self.where}.fit"
        images = load_unit_images(samples, self.size, where, p.batch_size)
        rng = np.random.default_rng(0 if self.seed is None else int(self.seed))
        chunks, labels = [], []
        with torch.inference_mode():
            for _ in range(p.abnormal_per_image):
                for start in range(0, len(images), p.batch_size):
                    bad, masks = defect_batch(images[start : start + p.batch_size], rng)
                    tok = self.tokens(normalize(bad, p.mean, p.std).to(self.device)).cpu()
                    chunks.append(residuals(tok, tokens, refs[start : start + len(bad)]))
                    labels.append(patch_labels(masks, self.grid_, p.min_defect_fraction))
        res = torch.cat(chunks).reshape(-1, tokens.shape[2]).clone()
        lab = torch.cat(labels).reshape(-1)
        if not lab.any():
            raise DataError(f"{where}: no synthetic defect covered {p.min_defect_fraction:.0%} of any patch; lower "
                            "min_defect_fraction or raise image_size")
        return res, lab

    def after_head_load(self) -> None:
        self.bank_desc_ = descriptors(self.bank_)

    def patch_scores(self, tokens: torch.Tensor) -> torch.Tensor:
        k = min(self.params.reference_images, int(self.bank_.shape[0]))
        res = residuals(tokens, self.bank_, nearest_images(descriptors(tokens), self.bank_desc_, k))
        return self.head_(res.reshape(-1, res.shape[2])).reshape(tokens.shape[:2])
