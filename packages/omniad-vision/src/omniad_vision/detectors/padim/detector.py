"""PaDiM detector: per-position multivariate Gaussians of backbone embeddings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from omniad.errors import ConfigError, DataError
from omniad.state import Array, declare
from omniad_vision.detectors.backbone_detector import BackboneDetector
from omniad_vision.detectors.padim.covariance import ledoit_wolf_covariance, ridge_covariance
from omniad_vision.detectors.padim.graph import PaDiMGraph
from omniad_vision.detectors.padim.params import PaDiMParams

POSITION_BLOCK = 256  # positions per covariance/inverse block: bounds peak memory


class PaDiM(BackboneDetector):
    """A Patch Distribution Modeling Framework for Anomaly Detection and Localization.

    Image score = maximum of the (blurred) Mahalanobis map, as in anomalib.
    """

    Params = PaDiMParams
    model_attributes = ("channels_", "mean_", "precision_")
    #: d kept channels (indices into the concatenated layers), a Gaussian per each of p positions
    state_spec = declare(channels_=Array("d", kinds="iu"), mean_=Array("p", "d"), precision_=Array("p", "d", "d"))

    def check_state(self, state: dict[str, Any]) -> None:
        channels = state["channels_"]
        n = self.params.n_features
        if n is not None and len(channels) != n:
            raise DataError(f"{self.where}: saved channels_ keeps {len(channels)} channels but n_features={n}; re-save the model")
        if np.any(np.diff(channels) <= 0) or channels[0] < 0:
            raise DataError(f"{self.where}: saved channels_ must be distinct channel indices in increasing order; re-save the model")

    def check_loaded(self) -> None:
        total = sum(self.extractor_.channels)
        if int(self.channels_.max()) >= total:
            raise DataError(
                f"{self.where}: saved channels_ selects channel {int(self.channels_.max())} but backbone "
                f"{self.params.backbone!r} at layers {self.layers_} gives only {total}; re-save the model"
            )
        if self.params.n_features is None:
            self.check_width("channels_", len(self.channels_))
        with torch.inference_mode():  # one probe image gives the position grid of the first layer
            first = self.extractor_(torch.zeros(1, 3, *self.size, device=self.device))[0]
        positions = int(first.shape[-2] * first.shape[-1])
        if self.mean_.shape[0] != positions:
            raise DataError(
                f"{self.where}: saved mean_ holds {self.mean_.shape[0]} positions but image_size {self.size} on "
                f"{self.params.backbone!r} gives a {first.shape[-2]}x{first.shape[-1]} grid; re-save the model"
            )

    def _fit(self, samples: Sequence[Any]) -> None:
        p = self.params
        where = f"{self.where}.fit"
        extractor = self.build_extractor(p.weights)
        total = sum(extractor.channels)
        d = total if p.n_features is None else p.n_features
        if d > total:
            raise ConfigError(
                f"{where}: n_features={d} but layers {self.layers_} of {p.backbone} give only {total} channels; "
                f"use n_features <= {total} or None"
            )
        gen = torch.Generator().manual_seed(torch.initial_seed() if self.seed is None else self.seed)
        channels = torch.randperm(total, generator=gen)[:d].sort().values.to(self.device)
        graph = PaDiMGraph(extractor, channels, torch.empty(0), torch.empty(0), image_size=self.size, blur_sigma=p.blur_sigma)
        chunks = []
        with torch.inference_mode():
            for _, _, x in self.batches(samples, where):
                chunks.append(graph.embed(x).flatten(2).permute(0, 2, 1))  # (B, P, d)
        x = torch.cat(chunks)
        means, precisions = [], []
        for start in range(0, x.shape[1], POSITION_BLOCK):
            block = x[:, start : start + POSITION_BLOCK]
            if p.covariance == "ridge":
                mean, cov = ridge_covariance(block, p.ridge)
            else:
                mean, cov, _ = ledoit_wolf_covariance(block)
            means.append(mean)
            try:  # Cholesky: the covariance is symmetric positive definite, and batched LU inverses gave
                # garbage pivots under 2 OpenMP threads on 200-d DINOv2 features (RuntimeError in lu_solve)
                precisions.append(torch.cholesky_inverse(torch.linalg.cholesky(cov.double())).float())
            except torch.linalg.LinAlgError:
                raise DataError(
                    f"{where}: the covariance of {x.shape[0]} training images is singular; "
                    "use ridge > 0 or covariance='ledoit_wolf', or add training images"
                ) from None
        self.channels_ = channels
        self.mean_ = torch.cat(means)
        self.precision_ = torch.cat(precisions)
        self.after_load()

    def after_load(self) -> None:
        self.graph_ = PaDiMGraph(
            self.extractor_, self.channels_, self.mean_, self.precision_,
            image_size=self.size, blur_sigma=self.params.blur_sigma,
        ).eval()
