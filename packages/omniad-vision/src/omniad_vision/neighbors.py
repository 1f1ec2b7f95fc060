"""Exact k-nearest-neighbour search of patch features against a memory bank.

Two backends, same answers: torch (``||q||^2 + ||b||^2 - 2 q.b`` on the detector's device,
queries processed in blocks so the distance block never exceeds ``memory_mb``, which
bounds peak memory whatever the bank size) and faiss ``IndexFlatL2`` (exact, CPU, its own
BLAS blocking). ``auto`` picks faiss on CPU when it is installed and torch on CUDA; measured
speeds are in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import torch

from omniad.errors import ConfigError, MissingDependencyError


def faiss_available() -> bool:
    return importlib.util.find_spec("faiss") is not None


def resolve_backend(backend: str, device: str) -> str:
    if backend == "auto":
        return "faiss" if device == "cpu" and faiss_available() else "torch"
    if backend == "faiss" and not faiss_available():
        raise MissingDependencyError("knn_backend='faiss' needs faiss; pip install faiss-cpu or use 'torch'")
    if backend not in ("torch", "faiss"):
        raise ConfigError(f"unknown knn backend {backend!r}; use 'auto', 'torch' or 'faiss'")
    return backend


def squared_distances(queries: torch.Tensor, bank: torch.Tensor, bank_sq: torch.Tensor | None = None) -> torch.Tensor:
    """All squared Euclidean distances ``(n, m)``, clamped at 0 against rounding."""
    if bank_sq is None:
        bank_sq = bank.pow(2).sum(1)
    d2 = queries.pow(2).sum(1, keepdim=True) + bank_sq[None] - 2.0 * queries @ bank.T
    return d2.clamp_min_(0.0)


class NearestNeighbors:
    """Search a fixed bank ``(m, d)`` for the ``k`` nearest rows of each query."""

    def __init__(self, bank: torch.Tensor, *, backend: str = "auto", memory_mb: int = 256) -> None:
        self.bank = bank.float().contiguous()
        self.backend = resolve_backend(backend, str(bank.device.type))
        self.memory_mb = memory_mb
        self._bank_sq = self.bank.pow(2).sum(1)
        self._index = None
        if self.backend == "faiss":
            import faiss

            self._index = faiss.IndexFlatL2(self.bank.shape[1])
            self._index.add(np.ascontiguousarray(self.bank.cpu().numpy(), dtype=np.float32))

    def search(self, queries: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(distances, indices)``, each ``(n, k)``, nearest first; distances are Euclidean."""
        k = min(k, self.bank.shape[0])
        if self._index is not None:
            d2, idx = self._index.search(np.ascontiguousarray(queries.detach().float().cpu().numpy()), k)
            dist = torch.from_numpy(np.sqrt(np.maximum(d2, 0.0))).to(queries.device)
            return dist, torch.from_numpy(idx).to(queries.device)
        rows = max(1, int(self.memory_mb * 2**20 // (4 * max(1, self.bank.shape[0]))))
        dists, idxs = [], []
        for start in range(0, queries.shape[0], rows):
            d2 = squared_distances(queries[start : start + rows].float(), self.bank, self._bank_sq)
            if k == 1:
                d, i = d2.min(1, keepdim=True)
            else:
                d, i = d2.topk(k, dim=1, largest=False)
            dists.append(d.sqrt_())
            idxs.append(i)
        return torch.cat(dists), torch.cat(idxs)
