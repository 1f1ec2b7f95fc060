"""Base class of detectors built on frozen backbone features.

It owns what they all repeat: validating, batching, resizing and normalising images
(through ``preprocess.tensor_batches`` / ``score_images``, as every vision detector does),
building the feature extractor after seeding (so random-init backbones are repeatable),
and saving the extractor's weights with the fitted state, so a saved model loads without
the original weight file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from omniad.detector import Detector
from omniad.scores import Scores
from omniad.torchstate import load_module_arrays, module_arrays
from omniad_vision.backbones import FeatureExtractor, create_feature_extractor
from omniad_vision.preprocess import input_size, score_images, tensor_batches

BACKBONE_PREFIX = "backbone"


class BackboneDetector(Detector):
    """Subclasses list their own fitted arrays in ``model_attributes``."""

    model_attributes: ClassVar[tuple[str, ...]] = ()

    @property
    def size(self) -> tuple[int, int]:
        return input_size(self.params)

    def build_extractor(self, weights: str | None) -> FeatureExtractor:
        p = self.params
        self.extractor_ = create_feature_extractor(
            p.backbone, list(p.layers), weights=weights, device=self.device, where=self.where, fold_batchnorm=True
        )
        return self.extractor_

    def batches(self, samples: Sequence[Any], where: str) -> Iterator[tuple[int, list[tuple[int, int]], torch.Tensor]]:
        """``(start, original (H, W) per image, normalised batch)`` for all samples."""
        return tensor_batches(samples, self.params, self.device, where)

    # -- scoring through a graph module (maps at image_size -> input resolution) ---------
    graph_: nn.Module

    def score_batch(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(image scores (B,), maps (B, H, W) at image_size or None)`` of a normalised batch."""
        return self.graph_.score(x)

    def _score(self, samples: Sequence[Any]) -> Scores:
        return score_images(samples, self.params, self.device, f"{self.where}.score", self.score_batch)

    def export_onnx(self, path: str | Path, *, opset: int = 17) -> Path:
        """Write the fitted model as ONNX: input ``image`` = normalised ``(B, 3, H, W)`` at
        ``image_size`` (``preprocess.to_tensor`` makes it); outputs ``score (B,)`` and
        ``anomaly_map (B, H, W)`` at ``image_size``."""
        from omniad_vision.export import export_graph

        where = f"{self.where}.export_onnx"
        self._require_fitted(where)
        return export_graph(self.graph_, path, self.size, opset=opset, where=where)

    # -- persistence: fitted arrays + the extractor's weights ---------------------------
    def get_state(self) -> dict[str, Any]:
        state = super().get_state() if self.state_attributes else {}
        for name in self.model_attributes:
            value = getattr(self, name)
            state[name] = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
        state.update(module_arrays(self.extractor_, BACKBONE_PREFIX))
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        extractor = self.build_extractor(None)
        load_module_arrays(extractor, state, BACKBONE_PREFIX)
        for key, value in state.items():
            if key.startswith(f"{BACKBONE_PREFIX}."):
                continue
            if key in self.model_attributes and isinstance(value, np.ndarray):
                value = torch.from_numpy(np.ascontiguousarray(value)).to(self.device)
            setattr(self, key, value)
        self.after_load()

    def after_load(self) -> None:
        """Hook for subclasses to rebuild derived objects (e.g. a search index) after ``load``."""
