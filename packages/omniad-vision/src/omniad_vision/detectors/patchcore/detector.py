"""PatchCore detector: fit = memory bank + coreset; score = nearest-neighbour distances."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from omniad.errors import DataError
from omniad.state import Array, Json, declare
from omniad_vision.detectors.backbone_detector import BackboneDetector
from omniad_vision.detectors.patchcore.graph import PatchCoreGraph
from omniad_vision.detectors.patchcore.memory import BankBuilder, fit_reserve_bytes, plan_memory
from omniad_vision.detectors.patchcore.params import PatchCoreParams
from omniad_vision.neighbors import NearestNeighbors


class PatchCore(BackboneDetector):
    """Towards Total Recall in Industrial Anomaly Detection (Roth et al., CVPR 2022).

    ``timings_`` records the seconds spent on features and on coreset selection in ``fit``;
    ``coreset_`` how the bank was built under ``max_memory_gb`` (see ``memory.py``).
    """

    Params = PatchCoreParams
    model_attributes = ("memory_bank_", "support_")
    #: m bank rows of d features; each row's b nearest bank rows (indices into the bank); how the
    #: coreset was built (``MemoryPlan.details``; absent in models saved before it was recorded)
    state_spec = declare(
        memory_bank_=Array("m", "d"), support_=Array("m", "b", kinds="iu"), coreset_=Json(types=(dict,), optional=True)
    )

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        if getattr(self, "coreset_", None) is not None:  # models loaded from before it was recorded have none
            state["coreset_"] = dict(self.coreset_)
        return state

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
        builder: BankBuilder | None = None
        with torch.inference_mode():
            for _, _, x in self.batches(samples, where):
                emb = graph.embed(x)
                if builder is None:  # every image is resized to image_size, so all give this many patches
                    builder = self._bank_builder(len(samples), emb.shape[2] * emb.shape[3], emb.shape[1], where)
                builder.add(emb.permute(0, 2, 3, 1).reshape(-1, emb.shape[1]))
                del emb
        assert builder is not None  # fit() rejects an empty sample list
        self.memory_bank_ = builder.finish()
        t2 = time.perf_counter()
        self.support_ = self._support_table()
        self.timings_ = {
            "features_s": t2 - t0 - builder.coreset_s, "coreset_s": builder.coreset_s,
            "support_s": time.perf_counter() - t2,
        }
        self.after_load()

    def _bank_builder(self, n_images: int, patches_per_image: int, dim: int, where: str) -> BankBuilder:
        """Plan chunks and bank under ``max_memory_gb``; warn about and record any approximation it forces."""
        p = self.params
        weight_bytes = sum(t.numel() * t.element_size() for t in self.extractor_.state_dict().values())
        plan = plan_memory(
            n_images * patches_per_image, dim, patches_per_image=patches_per_image, coreset_ratio=p.coreset_ratio,
            projection_dim=p.projection_dim, num_neighbors=p.num_neighbors, knn_memory_mb=p.knn_memory_mb,
            max_memory_gb=p.max_memory_gb, chunk_patches=p.coreset_chunk_size, where=where,
            reserve_bytes=fit_reserve_bytes(weight_bytes, min(p.batch_size, n_images), self.size, dim, patches_per_image),
        )
        self.coreset_ = plan.details()
        capped = p.max_memory_gb is not None and plan.exact_gb > p.max_memory_gb
        if capped:
            why = (f"the exact coreset of {plan.patches} patches x {dim} features needs about {plan.exact_gb:.2f} GB, "
                   f"over max_memory_gb={p.max_memory_gb}")
            changes = []
            asked = plan.patches if p.coreset_chunk_size is None else min(p.coreset_chunk_size, plan.patches)
            if plan.chunks > math.ceil(plan.patches / (asked - asked % patches_per_image)):  # more chunks than asked
                requested = "exact greedy" if asked == plan.patches else f"chunks of <= {asked} patches"
                changes.append(f"a chunked approximate coreset ({plan.chunks} chunks of <= {plan.chunk_patches} patches)")
                self.adjusted_params["coreset"] = {"requested": requested, "used": plan.details()["method"], "why": why}
            if plan.coreset_ratio < p.coreset_ratio:
                changes.append(f"coreset_ratio {p.coreset_ratio} lowered to {plan.coreset_ratio:.4g} "
                               f"({plan.bank_rows} bank rows)")
                self.adjusted_params["coreset_ratio"] = {"requested": p.coreset_ratio, "used": plan.coreset_ratio,
                                                         "why": why}
            if changes:
                warnings.warn(f"{where}: {why}; using {' and '.join(changes)} (recorded in coreset_ and "
                              "adjusted_params)", UserWarning, stacklevel=4)
        return BankBuilder(plan, patches_per_image=patches_per_image, projection_dim=p.projection_dim, seed=self.seed,
                           device=self.device)

    def provenance(self) -> dict[str, Any]:
        """The backbone's record plus how the coreset was built (exact or chunked, bank size, memory estimate)."""
        out = super().provenance()
        if getattr(self, "coreset_", None):
            out["coreset"] = dict(self.coreset_)
        return out

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
