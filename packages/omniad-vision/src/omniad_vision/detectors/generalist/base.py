"""Base of the generalist detectors: frozen patch tokens in, a trained head, patch scores out.

Each method supplies ``make_head`` (its trainable network, rebuilt at load for the extractor's
width), ``_train`` (fit on the training tokens) and ``patch_scores`` (tokens -> one score per
patch). The base owns the rest: L2-normalised tokens of the configured layers (the same
features the issue measured with a plain kNN), maps blurred at ``image_size``, image score =
the worst patch, and persistence of the head beside the backbone and the declared arrays.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from omniad.errors import ConfigError, DataError
from omniad.state import Module, declare
from omniad.torchstate import load_module_arrays, module_arrays
from omniad_vision.detectors.backbone_detector import BACKBONE_PREFIX, BackboneDetector
from omniad_vision.features import patch_embedding
from omniad_vision.preprocess import patch_scores_to_maps

HEAD = "head"


class GeneralistDetector(BackboneDetector):
    """Subclasses set ``Params``, ``model_attributes`` / ``state_spec`` for their arrays."""

    state_spec = declare(head=Module())

    # -- what a method supplies ------------------------------------------------------------
    @abstractmethod
    def make_head(self, width: int) -> nn.Module:
        """The trainable network for ``width``-channel tokens (seeded by the caller)."""

    @abstractmethod
    def _train(self, tokens: torch.Tensor, samples: Sequence[Any]) -> None:
        """Fit ``self.head_`` (and the method's arrays) on training tokens ``(N, L, C)``."""

    @abstractmethod
    def patch_scores(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(B, L, C)`` tokens -> ``(B, L)`` anomaly scores (higher = more anomalous)."""

    # -- features ---------------------------------------------------------------------------
    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised batch -> ``(B, L, C)`` unit-length patch tokens; the grid is kept in ``grid_``."""
        emb = F.normalize(patch_embedding(self.extractor_(x), 1), dim=1)
        b, c, h, w = emb.shape
        self.grid_ = (h, w)
        return emb.permute(0, 2, 3, 1).reshape(b, h * w, c)

    def extract(self, samples: Sequence[Any], where: str) -> torch.Tensor:
        with torch.inference_mode():
            return torch.cat([self.tokens(x).cpu() for _, _, x in self.batches(samples, where)]).clone()

    @property
    def width(self) -> int:
        return int(sum(self.extractor_.channels))

    # -- fit / score ------------------------------------------------------------------------
    def _fit(self, samples: Sequence[Any]) -> None:
        self.build_extractor(self.params.weights)
        tokens = self.extract(samples, f"{self.where}.fit")
        self.head_ = self.make_head(self.width).to(self.device)
        self._train(tokens, samples)
        self.head_.eval()

    def score_batch(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        tokens = self.tokens(x)
        h, w = self.grid_
        patch = self.patch_scores(tokens).reshape(-1, h, w)
        return patch.flatten(1).amax(dim=1), patch_scores_to_maps(patch, self.size, self.params.blur_sigma)

    def export_onnx(self, path: str | Path, *, opset: int = 17) -> Path:
        raise ConfigError(f"{self.where}.export_onnx: this detector has no ONNX export (its scoring step is not a "
                          "traced graph); save it with save() and load it with omniad")

    # -- persistence: backbone and arrays by the base, the head here --------------------------
    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        state.update(module_arrays(self.head_, HEAD))
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        prefix = f"{HEAD}."
        known = (prefix, f"{BACKBONE_PREFIX}.")
        unknown = [k for k in state if not k.startswith(known) and not self._settable(k)]
        if unknown:
            raise DataError(f"{self.where}: saved state entry {unknown[0]!r} is not part of this detector's state")
        super().set_state({k: v for k, v in state.items() if not k.startswith(prefix)})
        head = self.make_head(self.width).to(self.device)
        load_module_arrays(head, state, HEAD)
        self.head_ = head.eval()
        self.after_head_load()

    def after_head_load(self) -> None:
        """Hook: rebuild what derives from the loaded head and arrays."""
