"""Base class of detectors built on frozen backbone features.

It owns what they all repeat: validating, batching, resizing and normalising images
(through ``preprocess.tensor_batches`` / ``score_images``, as every vision detector does),
building the feature extractor after seeding (so random-init backbones are repeatable),
and saving the extractor's weights with the fitted state, so a saved model loads without
the original weight file. ``layers=None`` resolves to the backbone's default levels here;
the resolved names are saved (``layers_``) and reported in ``provenance``.

Loading checks what the declared state cannot: the saved arrays' feature widths against the
rebuilt extractor's channels (``check_width``), so a folder that does not fit the backbone
fails at load, naming the entry, not inside a matrix product at score.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Json, Module, Str, declare
from omniad.torchstate import load_module_arrays, module_arrays
from omniad_vision.backbones import FeatureExtractor, create_feature_extractor
from omniad_vision.detectors.base import VisionDetector
from omniad_vision.preprocess import input_size, score_images, tensor_batches

BACKBONE_PREFIX = "backbone"


class BackboneDetector(VisionDetector):
    """Subclasses list their own fitted arrays in ``model_attributes``."""

    model_attributes: ClassVar[tuple[str, ...]] = ()
    #: the extractor's weights (``backbone.*``) and the feature layers it was cut at (absent in
    #: folders saved before defaults were resolved per backbone: their params name the layers)
    state_spec = declare(backbone=Module(), layers_=Json(types=(list,), items=Str(), optional=True))

    @property
    def size(self) -> tuple[int, int]:
        return input_size(self.params)

    def build_extractor(self, weights: str | None, layers: list[str] | None = None) -> FeatureExtractor:
        """The frozen extractor at ``layers`` (default: the params' layers, or the backbone's default levels)."""
        p = self.params
        if layers is None and p.layers is not None:
            layers = list(p.layers)
        self.extractor_ = create_feature_extractor(
            p.backbone, layers, weights=weights, device=self.device, where=self.where, fold_batchnorm=True,
            default_strides=type(p).default_strides,
        )
        self.layers_ = list(self.extractor_.layer_names)
        return self.extractor_

    def provenance(self) -> dict[str, Any]:
        """Which feature layers ran (``layers=None`` resolves per backbone) and their channels."""
        extractor = getattr(self, "extractor_", None)
        if extractor is None:
            return {}
        return {
            "backbone": self.params.backbone,
            "layers": list(extractor.layer_names),
            "layers_from": "params" if self.params.layers is not None else "backbone default",
            "channels": list(extractor.channels),
        }

    def check_width(self, key: str, width: int, expected: int | None = None) -> None:
        """A saved entry's feature width must be what the rebuilt extractor gives (default: all its channels)."""
        want = sum(self.extractor_.channels) if expected is None else expected
        if width != want:
            raise DataError(
                f"{self.where}: saved state {key!r} holds {width}-wide features but backbone {self.params.backbone!r} "
                f"at layers {self.layers_} gives {want}; the folder does not belong to these parameters, re-save the model"
            )

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
        state["layers_"] = list(self.layers_)
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        """Rebuild the extractor at the saved layers, load its weights strictly, then the declared arrays."""
        prefix = f"{BACKBONE_PREFIX}."
        for key in state:
            if not key.startswith(prefix) and not self._settable(key):
                raise DataError(f"{self.where}: saved state entry {key!r} is not part of this detector's state")
        layers = state.get("layers_")
        extractor = self.build_extractor(None, None if layers is None else [str(x) for x in layers])
        load_module_arrays(extractor, state, BACKBONE_PREFIX)
        for key, value in state.items():
            if key.startswith(prefix) or key == "layers_":
                continue
            if key in self.model_attributes and isinstance(value, np.ndarray):
                value = torch.from_numpy(np.ascontiguousarray(value)).to(self.device)
            setattr(self, key, value)
        self.check_loaded()
        self.after_load()

    def check_loaded(self) -> None:
        """Hook: compare the loaded arrays with the rebuilt extractor (``check_width``); raise DataError."""

    def after_load(self) -> None:
        """Hook for subclasses to rebuild derived objects (e.g. a search index) after ``load``."""
