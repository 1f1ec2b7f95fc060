"""Per-position covariance estimates, batched over positions in torch.

``ledoit_wolf`` follows scikit-learn's ``ledoit_wolf_shrinkage`` (Ledoit & Wolf 2004, the
same formula, on centred data with the biased 1/n covariance), vectorised over the
``P`` patch positions at once; ``tests/test_vision_padim.py`` checks it against
scikit-learn position by position. With few training images (MPDD: 50 images for 128
channels) the sample covariance is singular and the paper's fixed ``0.01 * I`` ridge is
all that keeps it invertible; shrinkage picks the amount from the data instead.
"""

from __future__ import annotations

import torch


def ridge_covariance(x: torch.Tensor, ridge: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``x (N, P, d)`` -> mean ``(P, d)``, unbiased covariance + ridge * I ``(P, d, d)`` (PaDiM paper)."""
    n, _, d = x.shape
    mean = x.mean(0)
    xc = x - mean
    cov = torch.einsum("npc,npd->pcd", xc, xc) / max(n - 1, 1)
    return mean, cov + ridge * torch.eye(d, dtype=x.dtype, device=x.device)


def ledoit_wolf_covariance(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``x (N, P, d)`` -> mean, shrunk covariance ``(1 - a) S + a mu I`` and shrinkage ``a`` per position."""
    n, _, d = x.shape
    mean = x.mean(0)
    xc = (x - mean).double()
    s = torch.einsum("npc,npd->pcd", xc, xc) / n
    trace = torch.diagonal(s, dim1=1, dim2=2).sum(-1)  # (P,)
    mu = trace / d
    x2 = xc * xc
    beta_ = torch.einsum("npc,npd->pcd", x2, x2).sum((1, 2))  # sum_k ||x_k x_k^T||_F^2
    delta_ = (s * s).sum((1, 2))  # ||S||_F^2
    beta = (beta_ / n - delta_) / (d * n)
    delta = (delta_ - 2.0 * mu * trace + d * mu * mu) / d
    beta = torch.minimum(beta, delta)
    shrink = torch.where(delta > 0, beta / torch.where(delta > 0, delta, 1.0), torch.zeros_like(delta))
    eye = torch.eye(d, dtype=s.dtype, device=s.device)
    cov = (1.0 - shrink)[:, None, None] * s + (shrink * mu)[:, None, None] * eye
    return mean, cov.to(x.dtype), shrink
