"""How much of the training set PatchCore holds at once, and the memory bank built that way.

The exact greedy coreset needs every training patch in memory at once and costs
``patches x selected`` distance updates: 1,000 images at 256 px are a million patches, hours of
greedy steps, and (for a WideResNet-50's 1,536-d features) 6 GB of float32 before the first
step. ``max_memory_gb`` bounds what the fit allocates for patch features, coreset work arrays
and the bank; when the exact coreset does not fit, the patches are split into equal chunks
(whole images, in the order given) and each chunk gets its own greedy coreset of
``coreset_ratio`` of its patches; the bank is the union of those. That is a composable coreset
(Indyk et al., PODS 2014, for k-center): every training patch lies within its own chunk's
greedy covering radius of the bank, and the cost falls to ``patches x chunk x ratio``. When even
the bank itself would take more than half the cap, the ratio is lowered so it fits. Either
change is warned about and recorded (``adjusted_params``, the fitted ``coreset_`` details and
``provenance``), never silent.

Features stream into one preallocated float32 buffer per chunk (no list of batches and
concatenation, which held every patch twice), and the selected rows are copied straight into a
preallocated bank.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import torch

from omniad.errors import DataError
from omniad_vision.detectors.patchcore.coreset import greedy_coreset

GIB = 1024**3
#: float32 bytes per patch that the greedy loop adds to the features: squared norm, radius,
#: nearest center (int64), the gathered center-to-center distance and the candidate mask, rounded up
WORK_BYTES_PER_PATCH = 32
#: bytes per bank row of the neighbourhood table (int64 indices and float32 distances)
SUPPORT_BYTES_PER_NEIGHBOUR = 12

#: resident size of Python with torch, timm and omniad_vision imported (0.76 GB measured on Linux
#: x86-64 with torch's CPU build); counted so that ``max_memory_gb`` bounds the whole fit, not just the bank
RUNTIME_BYTES = int(0.75 * GIB)
#: a batch's backbone activations as a multiple of its float32 input (MobileNetV2 at 256 px peaked
#: 0.35 GB above the loaded model for 32 images, 14x; WideResNet-50 below that)
ACTIVATION_FACTOR = 16


def fit_reserve_bytes(weight_bytes: int, batch: int, image_hw: tuple[int, int], dim: int, grid: int) -> int:
    """What a fit holds besides features, coreset and bank: the runtime, the backbone's weights (twice:
    loading copies them), one batch's activations and its patch embedding (pooled, upsampled, reordered)."""
    pixels = image_hw[0] * image_hw[1]
    return RUNTIME_BYTES + 2 * weight_bytes + batch * (3 * pixels * 4 * ACTIVATION_FACTOR + 3 * dim * grid * 4)


@dataclass(frozen=True)
class MemoryPlan:
    """What the fit holds at once; ``exact`` = one chunk, the paper's greedy coreset over all patches."""

    patches: int
    dim: int
    chunk_patches: int
    chunks: int
    coreset_ratio: float
    bank_rows: int
    estimated_gb: float
    exact_gb: float
    reserve_gb: float
    max_memory_gb: float | None
    exact: bool

    def details(self) -> dict[str, Any]:
        """JSON-ready record for the fitted model and the run's provenance."""
        out = asdict(self)
        out["method"] = "exact greedy" if self.exact else f"chunked greedy ({self.chunks} chunks, union of their coresets)"
        return out


def _selected(rows: int, ratio: float) -> int:
    """Rows a chunk of ``rows`` keeps (floor, at least one): the exact path's count when there is one chunk."""
    return max(1, int(rows * ratio))


def _chunk_sizes(patches: int, chunks: int, unit: int) -> list[int]:
    """``patches`` split into ``chunks`` near-equal parts of whole ``unit``s (images), in order."""
    units = patches // unit
    base, extra = divmod(units, chunks)
    return [(base + (i < extra)) * unit for i in range(chunks)]


def plan_memory(
    patches: int,
    dim: int,
    *,
    patches_per_image: int,
    coreset_ratio: float,
    projection_dim: int | None,
    num_neighbors: int,
    knn_memory_mb: int,
    max_memory_gb: float | None,
    chunk_patches: int | None,
    where: str,
    reserve_bytes: int = 0,
) -> MemoryPlan:
    """The largest chunks (and bank) the cap allows; one chunk whenever the exact coreset fits.

    ``reserve_bytes`` is what the fit needs besides features, coreset and bank (``fit_reserve_bytes``).
    """
    proj = projection_dim if projection_dim is not None and projection_dim < dim else 0
    per_patch = dim * 4 + proj * 4 + WORK_BYTES_PER_PATCH
    per_bank_row = dim * 4 + num_neighbors * SUPPORT_BYTES_PER_NEIGHBOUR
    fixed = knn_memory_mb * 1024**2  # one distance block of the neighbourhood search

    def need(chunk: int, ratio: float) -> float:
        return chunk * per_patch + _selected(patches, ratio) * per_bank_row + fixed + reserve_bytes

    exact_bytes = need(patches, coreset_ratio)
    budget = math.inf if max_memory_gb is None else max_memory_gb * GIB - reserve_bytes  # left for the bank and chunks
    ratio = coreset_ratio
    if _selected(patches, ratio) * per_bank_row > budget / 2:  # the bank alone would crowd out the chunks
        ratio = (budget / 2) / (patches * per_bank_row)
    room = budget - (need(0, ratio) - reserve_bytes)
    if chunk_patches is not None and chunk_patches < patches_per_image:
        raise DataError(
            f"{where}: coreset_chunk_size={chunk_patches} is smaller than one image's {patches_per_image} patches; "
            f"use at least {patches_per_image} (chunks hold whole images), or None"
        )
    limit = patches if chunk_patches is None else chunk_patches
    fits = room // per_patch if math.isfinite(room) else patches
    chunk = int(min(limit, fits, patches))
    chunk -= chunk % patches_per_image  # whole images per chunk
    if chunk < patches_per_image:
        # the reserve, then half of the rest for the bank and half for one image's chunk and a search block
        least = (reserve_bytes + 2 * (patches_per_image * per_patch + fixed)) / GIB
        raise DataError(
            f"{where}: max_memory_gb={max_memory_gb} cannot hold one image's {patches_per_image} patches of {dim} "
            f"features beside the memory bank and the {reserve_bytes / GIB:.2g} GB the backbone, one batch and "
            f"Python take; use max_memory_gb >= {least:.3g} or a smaller image_size"
        )
    chunks = math.ceil(patches / chunk)
    sizes = _chunk_sizes(patches, chunks, patches_per_image)
    bank_rows = sum(_selected(s, ratio) for s in sizes)
    return MemoryPlan(
        patches=patches, dim=dim, chunk_patches=max(sizes), chunks=chunks, coreset_ratio=ratio, bank_rows=bank_rows,
        estimated_gb=(max(sizes) * per_patch + bank_rows * per_bank_row + fixed + reserve_bytes) / GIB, exact_gb=exact_bytes / GIB,
        reserve_gb=reserve_bytes / GIB, max_memory_gb=max_memory_gb, exact=chunks == 1,
    )


class BankBuilder:
    """Takes patch features batch by batch; keeps one chunk, replaces it by its coreset when full."""

    def __init__(self, plan: MemoryPlan, *, patches_per_image: int, projection_dim: int | None, seed: int | None,
                 device: torch.device | str) -> None:
        self.plan = plan
        self.sizes = _chunk_sizes(plan.patches, plan.chunks, patches_per_image)
        self.projection_dim = projection_dim
        self.seed = seed
        self.buffer = torch.empty(max(self.sizes), plan.dim, device=device)
        self.bank = torch.empty(plan.bank_rows, plan.dim, device=device)
        self.chunk = 0  # index of the chunk being filled
        self.filled = 0  # rows of it filled so far
        self.banked = 0  # bank rows written
        self.coreset_s = 0.0

    def add(self, rows: torch.Tensor) -> None:
        while len(rows):
            if self.chunk >= len(self.sizes):
                raise DataError(f"more patches than the {self.plan.patches} planned; this is a bug, please report it")
            size = self.sizes[self.chunk]
            take = min(size - self.filled, len(rows))
            self.buffer[self.filled : self.filled + take] = rows[:take]
            self.filled += take
            rows = rows[take:]
            if self.filled == size:
                self._reduce(size)

    def _reduce(self, size: int) -> None:
        t0 = time.perf_counter()
        seed = None if self.seed is None else int(self.seed) + self.chunk
        features = self.buffer[:size]
        keep = greedy_coreset(features, _selected(size, self.plan.coreset_ratio), projection_dim=self.projection_dim,
                              seed=seed)
        self.bank[self.banked : self.banked + len(keep)] = features[keep]
        self.banked += len(keep)
        self.chunk += 1
        self.filled = 0
        self.coreset_s += time.perf_counter() - t0

    def finish(self) -> torch.Tensor:
        if self.chunk != len(self.sizes) or self.banked != self.plan.bank_rows:
            raise DataError(f"got fewer patches than the {self.plan.patches} planned; this is a bug, please report it")
        del self.buffer
        return self.bank
