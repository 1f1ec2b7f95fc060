"""Sliding windows over a ViT patch grid and the harmonic aggregation of their scores.

A window of k x k patches is scored by running only its tokens (plus the class token)
through the vision transformer, so its embedding describes that region alone. Each patch
then takes the harmonic mean of the scores of the windows that cover it: one low-scoring
(normal-looking) window pulls the patch down, which keeps anomalies tight.
"""

from __future__ import annotations

import torch


def window_indices(grid: tuple[int, int], k: int) -> torch.Tensor:
    """``(n_windows, k*k)`` flat patch indices of every k x k window, stride 1, row-major."""
    h, w = grid
    k_h, k_w = min(k, h), min(k, w)
    ids = torch.arange(h * w).view(h, w)
    windows = ids.unfold(0, k_h, 1).unfold(1, k_w, 1)  # (h-k+1, w-k+1, k, k)
    return windows.reshape(-1, k_h * k_w)


def harmonic_to_patches(window_scores: torch.Tensor, windows: torch.Tensor, n_patches: int) -> torch.Tensor:
    """``(B, n_windows)`` scores -> ``(B, n_patches)``: per patch, harmonic mean over covering windows."""
    b = window_scores.shape[0]
    inv = (1.0 / window_scores.clamp_min(1e-12)).repeat_interleave(windows.shape[1], dim=1)
    flat = windows.reshape(-1).to(window_scores.device).expand(b, -1)
    sums = torch.zeros(b, n_patches, device=window_scores.device, dtype=window_scores.dtype).scatter_add_(1, flat, inv)
    counts = torch.bincount(windows.reshape(-1), minlength=n_patches).to(sums)
    return counts / sums
