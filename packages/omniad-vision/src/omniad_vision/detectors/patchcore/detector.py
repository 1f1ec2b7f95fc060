"""PatchCore detector: fit = memory bank + coreset; score = nearest-neighbour distances."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from omniad.errors import DataError
from omniad.state import Array, declare
from omniad_vision.detectors.backbone_detector import BackboneDetector
from omniad_vision.detectors.patchcore.coreset import greedy_coreset
from omniad_vision.detectors.patchcore.graph import PatchCoreGraph
from omniad_vision.detectors.patchcore.params import PatchCoreParams
from omniad_vision.neighbors import NearestNeighbors


class PatchCore(BackboneDetector):
    """Towards Total Recall in Industrial Anomaly Detection (Roth et al., CVPR 2022).

    ``timings_`` records the seconds spent on features and on coreset selection in ``fit``.
    """

    Params = PatchCoreParams
    model_attributes = ("memory_bank_", "support_")
    #: m bank rows of d features; each row's b nearest bank rows (indices into the bank)
    state_spec = declare(memory_bank_=Array("m", "d"), support_=Array("m", "b", kinds="iu"))

    def check_state(self, state: dict[str, Any]) -> None:
        support = state["support_"]
        m, b = support.shape
        want = min(self.params.num_neighbors, m)
        if b != want:
            raise DataError(
                f"{self.where}: saved support_ lists {b} neighbours per bank row, but num_neighbors="
                f"{self.params.num_neighbors} with {m} bank rows gives {want}; re-save the model"
            )
        if np.any(support < 0) or np.any(support >= m):
            raise DataError(f"{self.where}: saved support_ points outside the {m}-row memory bank; re-save the model")

    def check_loaded(self) -> None:
        self.check_width("memory_bank_", int(self.memory_bank_.shape[1]))

    def _fit(self, samples: Sequence[Any]) -> None:
        p = self.params
        where = f"{self.where}.fit"
        t0 = time.perf_counter()
        extractor = self.build_extractor(p.weights)
        graph = self._graph(extractor, torch.empty(0), torch.empty(0, 1, dtype=torch.long))
        chunks = []
        with torch.inference_mode():
            for _, _, x in self.batches(samples, where):
                emb = graph.embed(x)
                chunks.append(emb.permute(0, 2, 3, 1).reshape(-1, emb.shape[1]))
        features = torch.cat(chunks)
        del chunks
        t1 = time.perf_counter()
        n_keep = max(1, int(len(features) * p.coreset_ratio))
        keep = greedy_coreset(features, n_keep, projection_dim=p.projection_dim, seed=self.seed)
        self.memory_bank_ = features[keep].contiguous()
        del features
        t2 = time.perf_counter()
        self.support_ = self._support_table()
        self.timings_ = {"features_s": t1 - t0, "coreset_s": t2 - t1, "support_s": time.perf_counter() - t2}
        self.after_load()

    def _support_table(self) -> torch.Tensor:
        """Each bank row's ``num_neighbors`` nearest bank rows (itself first), for Eq. 7."""
        n = len(self.memory_bank_)
        b = self._limit("num_neighbors", self.params.num_neighbors, n, f"the memory bank has only {n} patches")
        nn = NearestNeighbors(self.memory_bank_, backend=self.params.knn_backend, memory_mb=self.params.knn_memory_mb)
        return nn.search(self.memory_bank_, b)[1]

    def _graph(self, extractor: Any, bank: torch.Tensor, support: torch.Tensor) -> PatchCoreGraph:
        p = self.params
        return PatchCoreGraph(
            extractor, bank, support, pool_size=p.pool_size, reweight=p.score_reweighting,
            image_size=self.size, blur_sigma=p.blur_sigma, interpolation=p.map_interpolation,
        ).eval()

    def after_load(self) -> None:
        self.graph_ = self._graph(self.extractor_, self.memory_bank_, self.support_)
        self.nn_ = NearestNeighbors(self.memory_bank_, backend=self.params.knn_backend, memory_mb=self.params.knn_memory_mb)

    def score_batch(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.graph_.score(x, self._search)

    def _search(self, queries: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        dist, idx = self.nn_.search(queries, 1)
        return dist[:, 0], idx[:, 0]
