"""The patch description networks (PDN) and the autoencoder of EfficientAD.

Each PDN is written as a list of layer specs so that its output size for any input size
is computed from the same table that builds it: the autoencoder and the map padding need
that size before a single image has been seen. The autoencoder follows the paper's layout
(six strided convolutions to a 1x1 code, eight convolutions with bilinear upsampling
back), with the upsampling sizes derived from the input size so that inputs other than
256 px work too; at 256 px they are the paper's.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class Spec:
    kind: str  # "conv" or "pool"
    kernel: int
    pad: int
    channels: int = 0  # conv only; -1 = out_channels
    relu: bool = True


SMALL = (
    Spec("conv", 4, 3, 128), Spec("pool", 2, 1), Spec("conv", 4, 3, 256), Spec("pool", 2, 1),
    Spec("conv", 3, 1, 256), Spec("conv", 4, 0, -1, relu=False),
)
MEDIUM = (
    Spec("conv", 4, 3, 256), Spec("pool", 2, 1), Spec("conv", 4, 3, 512), Spec("pool", 2, 1),
    Spec("conv", 1, 0, 512), Spec("conv", 3, 1, 512), Spec("conv", 4, 0, -1), Spec("conv", 1, 0, -1, relu=False),
)
ARCHITECTURES = {"small": SMALL, "medium": MEDIUM}


def pdn_output_size(model_size: str, padding: bool, size: tuple[int, int]) -> tuple[int, int]:
    """Spatial size of a PDN's output for an input of ``size``."""

    def side(n: int) -> int:
        for spec in ARCHITECTURES[model_size]:
            pad = spec.pad if padding else 0
            n = n + 2 * pad - spec.kernel + 1 if spec.kind == "conv" else (n + 2 * pad - 2) // 2 + 1
        return n

    return side(size[0]), side(size[1])


class PDN(nn.Module):
    """Patch description network: a 33x33 (small) receptive field per output feature."""

    def __init__(self, model_size: str, out_channels: int, padding: bool) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for spec in ARCHITECTURES[model_size]:
            pad = spec.pad if padding else 0
            if spec.kind == "pool":
                layers.append(nn.AvgPool2d(2, stride=2, padding=pad))
                continue
            width = out_channels if spec.channels == -1 else spec.channels
            layers.append(nn.Conv2d(channels, width, spec.kernel, padding=pad))
            if spec.relu:
                layers.append(nn.ReLU(inplace=True))
            channels = width
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def _decoder_sizes(size: tuple[int, int]) -> list[tuple[int, int]]:
    """The six intermediate upsampling sizes; at 256 px: 3, 8, 15, 32, 63, 127."""
    h, w = size
    rules = ((64, -1), (32, 0), (16, -1), (8, 0), (4, -1), (2, -1))
    return [(max(1, h // d + o), max(1, w // d + o)) for d, o in rules]


class AutoEncoder(nn.Module):
    """Encodes the whole image to a 64-d code and decodes it to the teacher's feature grid."""

    def __init__(self, out_channels: int, input_size: tuple[int, int], output_size: tuple[int, int]) -> None:
        super().__init__()
        self.input_size = tuple(input_size)
        self.output_size = tuple(output_size)
        self.sizes = _decoder_sizes(self.input_size)
        code_kernel = tuple(max(1, s // 32) for s in self.input_size)
        widths = (32, 32, 64, 64, 64)
        enc: list[nn.Module] = []
        channels = 3
        for width in widths:
            enc += [nn.Conv2d(channels, width, 4, stride=2, padding=1), nn.ReLU(inplace=True)]
            channels = width
        # the paper's 8x8 at 256 px: whatever spatial extent is left becomes the 1x1 code
        enc.append(nn.Conv2d(64, 64, code_kernel))
        self.encoder = nn.Sequential(*enc)
        self.up = nn.ModuleList(nn.Conv2d(64, 64, 4, stride=1, padding=2) for _ in self.sizes)
        self.dropout = nn.Dropout(p=0.2)
        self.tail = nn.Conv2d(64, 64, 3, padding=1)
        self.head = nn.Conv2d(64, out_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.encoder(x)
        for size, conv in zip(self.sizes, self.up, strict=True):
            y = self.dropout(F.relu(conv(F.interpolate(y, size=size, mode="bilinear", align_corners=False))))
        y = F.interpolate(y, size=self.output_size, mode="bilinear", align_corners=False)
        return self.head(F.relu(self.tail(y)))
