"""ResAD++: class-agnostic residual features, a feature constraintor and a distribution estimator.

After ResAD (Yao et al., "ResAD: A Simple Framework for Class Generalizable Anomaly Detection",
NeurIPS 2024) and its extension ResAD++ (Yao et al., 2025). Each patch token minus its nearest
normal reference patch (``generalist.references``) is a residual feature: small for normal
patches of any class, so a model of residuals learnt on some classes transfers to unseen ones
that come with a few normal shots. A feature constraintor (MLP) maps normal residuals into a
hypersphere of ``inner_radius`` and pushes perturbed residuals beyond ``outer_radius``; a
distribution estimator on the constrained residuals scores each patch.

Simplified here, and why: the estimator is a Gaussian (Ledoit-Wolf shrunk covariance,
Mahalanobis distance) instead of the paper's normalizing flow, and the constraintor is an MLP
on one ViT layer (the paper: convolutional, on several CNN levels); the pseudo-abnormal
residuals of the hypersphere loss are Gaussian-perturbed normal ones (no auxiliary anomalies
on this machine); references come by image retrieval, not class labels.
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
from omniad_vision.detectors.generalist.references import descriptors, nearest_images, residuals
from omniad_vision.detectors.resad.params import Params
from omniad_vision.training import torch_generator


def hypersphere_loss(normal: torch.Tensor, abnormal: torch.Tensor, inner: float, outer: float) -> torch.Tensor:
    """max(0, |z_n|^2 - inner^2) + max(0, outer^2 - |z_a|^2), each averaged over patches."""
    return F.relu(normal.pow(2).sum(1) - inner**2).mean() + F.relu(outer**2 - abnormal.pow(2).sum(1)).mean()


class ResAD(GeneralistDetector):
    """ResAD++ on frozen ViT patch tokens; see the module docstring for what was simplified."""

    Params = Params
    model_attributes = ("bank_", "mean_", "precision_")
    #: the fitted images' tokens (the reference pool), the estimator's mean and precision
    state_spec = declare(bank_=Array("n", "l", "c"), mean_=Array("d"), precision_=Array("d", "d"))

    def make_head(self, width: int) -> nn.Module:
        p: Params = self.params
        return nn.Sequential(nn.Linear(width, p.hidden), nn.GELU(), nn.Linear(p.hidden, p.out_dim))

    def check_loaded(self) -> None:
        self.check_width("bank_", int(self.bank_.shape[2]))
        if int(self.mean_.shape[0]) != self.params.out_dim:
            raise DataError(f"{self.where}: saved mean_ has {self.mean_.shape[0]} values but out_dim="
                            f"{self.params.out_dim}; re-save the model")
        self._check_k(int(self.bank_.shape[0]))

    def _check_k(self, n: int) -> int:
        return self._limit("reference_images", self.params.reference_images, n, f"only {n} normal images were fitted")

    def _train(self, tokens: torch.Tensor, samples: Sequence[Any]) -> None:
        p: Params = self.params
        n = tokens.shape[0]
        if n < 2:
            raise DataError(f"{self.where}.fit: got 1 image; residuals need at least 2 normal images (each is "
                            "compared with the others)")
        k = self._limit("reference_images", p.reference_images, n - 1, f"only {n - 1} other normal images are fitted")
        desc = descriptors(tokens)
        res = residuals(tokens, tokens, nearest_images(desc, desc, k, leave_out_self=True)).reshape(-1, tokens.shape[2])
        gen = torch_generator(self.seed)
        head = self.head_
        optimizer = torch.optim.Adam(head.parameters(), lr=p.lr)
        losses = []
        head.train()
        for _ in range(p.train_steps):
            idx = torch.randint(len(res), (min(p.train_patches, len(res)),), generator=gen)
            normal = res[idx].to(self.device)
            noisy = normal + (torch.randn(normal.shape, generator=gen) * p.noise_std).to(self.device)
            loss = hypersphere_loss(head(normal), head(noisy), p.inner_radius, p.outer_radius)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        head.eval()
        self.train_losses_ = losses
        with torch.no_grad():
            z = torch.cat([head(chunk.to(self.device)).cpu() for chunk in res.split(8192)]).double().numpy()
        from sklearn.covariance import LedoitWolf

        estimator = LedoitWolf().fit(z)
        self.mean_ = torch.from_numpy(estimator.location_).float().to(self.device)
        self.precision_ = torch.from_numpy(np.asarray(estimator.precision_)).float().to(self.device)
        self.bank_ = tokens.to(self.device)
        self.after_head_load()

    def after_head_load(self) -> None:
        self.bank_desc_ = descriptors(self.bank_)

    def patch_scores(self, tokens: torch.Tensor) -> torch.Tensor:
        k = min(self.params.reference_images, int(self.bank_.shape[0]))
        res = residuals(tokens, self.bank_, nearest_images(descriptors(tokens), self.bank_desc_, k))
        z = self.head_(res.reshape(-1, res.shape[2])) - self.mean_
        d2 = ((z @ self.precision_) * z).sum(1).clamp_min(0.0)
        return d2.sqrt().reshape(tokens.shape[:2])
