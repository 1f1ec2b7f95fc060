"""The generator of Liu et al. (CVPR 2018): a U-Net mapping t stacked frames to the next one.

Trained with the paper's intensity (L2) and gradient-difference losses. Its adversarial
loss and optical-flow loss are left out: the flow loss needs a pretrained FlowNet that
cannot be shipped or downloaded here, and the adversarial term mainly sharpens
predictions at a large training cost; both are documented as omitted in the README.
"""

from __future__ import annotations

import torch
from torch import nn


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """``(B, t, H, W)`` frames in ``[-1, 1]`` -> ``(B, 1, H, W)`` predicted next frame in ``[-1, 1]``."""

    def __init__(self, n_context: int, base: int = 16, depth: int = 3):
        super().__init__()
        chans = [base * 2**i for i in range(depth + 1)]
        self.down = nn.ModuleList([_block(n_context, chans[0])] + [_block(chans[i], chans[i + 1]) for i in range(depth)])
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList([nn.ConvTranspose2d(chans[i + 1], chans[i], 2, stride=2) for i in reversed(range(depth))])
        self.merge = nn.ModuleList([_block(2 * chans[i], chans[i]) for i in reversed(range(depth))])
        self.out = nn.Conv2d(chans[0], 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        for up, merge in zip(self.up, self.merge, strict=True):
            x = merge(torch.cat([up(x), skips.pop()], dim=1))
        return torch.tanh(self.out(x))


def gradient_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Liu et al.'s gradient constraint: L1 between absolute horizontal/vertical differences."""
    def grads(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return (x[..., :, 1:] - x[..., :, :-1]).abs(), (x[..., 1:, :] - x[..., :-1, :]).abs()

    px, py = grads(pred)
    tx, ty = grads(target)
    return (px - tx).abs().mean() + (py - ty).abs().mean()


def psnr(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB on the ``[0, 1]`` scale, from frames in ``[-1, 1]``."""
    mse = (((pred - target) / 2.0) ** 2).flatten(1).mean(dim=1)
    return 10.0 * torch.log10(1.0 / mse.clamp_min(1e-10))
