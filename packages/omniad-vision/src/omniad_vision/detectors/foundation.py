"""Base of the frozen-ViT methods: the few-shot draw and L2-normalised patch tokens.

``fit_images`` applies the ``shots`` protocol (k fit images drawn with the detector's seed,
their indices in ``provenance``); ``tokens`` turns the extractor's maps into unit-length
patch tokens, one block per layer (each normalised, then scaled by 1/sqrt(L) so the
concatenation is unit-length too): cosine similarity is then a dot product and the cosine
distance ``d^2 / 2`` of the Euclidean one, so the repo's exact kNN search serves every method.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from omniad_vision.backbones import FeatureExtractor
from omniad_vision.detectors.backbone_detector import BackboneDetector


def unit_tokens(maps: list[torch.Tensor]) -> torch.Tensor:
    """``[(B, C_i, h_i, w_i)] -> (B, sum C_i, h_0, w_0)``: per-layer unit tokens, concatenation unit-length."""
    size = maps[0].shape[-2:]
    parts = [F.normalize(m if m.shape[-2:] == size else F.interpolate(m, size=size, mode="bilinear",
                                                                       align_corners=False), dim=1) for m in maps]
    out = torch.cat(parts, dim=1)
    return out / len(parts) ** 0.5 if len(parts) > 1 else out


def draw_shots(n: int, shots: int, seed: int | None) -> np.ndarray:
    """Sorted indices of ``shots`` of ``n`` fit images, the same for the same seed (None reads as 0)."""
    rng = np.random.default_rng(0 if seed is None else int(seed))
    return np.sort(rng.choice(n, size=shots, replace=False))


class FoundationDetector(BackboneDetector):
    """Backbone detector on unit patch tokens, with the few-shot draw of its fit images."""

    def fit_images(self, samples: Sequence[Any]) -> Sequence[Any]:
        """The images the method learns from: all of them, or ``shots`` of them drawn with the seed."""
        shots = self.params.shots
        self.shot_indices_: list[int] | None = None
        if shots is None:
            return samples
        if shots > len(samples):
            from omniad.errors import DataError

            raise DataError(f"{self.where}.fit: shots={shots} but only {len(samples)} images were given; "
                            f"pass at least {shots} normal images or lower shots")
        picked = draw_shots(len(samples), shots, self.seed)
        self.shot_indices_ = [int(i) for i in picked]
        return [samples[i] for i in picked]

    def tokens(self, x: torch.Tensor, extractor: FeatureExtractor | None = None) -> torch.Tensor:
        """``(B, D, h, w)`` unit patch tokens of a normalised batch."""
        return unit_tokens((extractor or self.extractor_)(x))

    def provenance(self) -> dict[str, Any]:
        out = super().provenance()
        indices = getattr(self, "shot_indices_", None)
        if indices is not None:
            out["shots"] = {"k": len(indices), "fit_indices": indices, "seed": self.seed}
        return out
