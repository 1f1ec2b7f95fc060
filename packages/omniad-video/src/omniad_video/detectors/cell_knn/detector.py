"""``video.cell_knn``: each grid cell of a fixed camera compared with the normal cells at and around its place.

Whole-frame detectors miss what fills a small part of the frame; a cell-level one sees it,
and the frame scores by its worst cell (:mod:`omniad_video.cell_features` says which cues and
why). A cell's cues are compared with every training frame's cues at the same place and in
the ``neighbourhood`` around it (objects cross cell borders), by the distance to the k-th
nearest, after standardising each cue over all training cells. Scores are smoothed over time
and spread to every original frame; a video scores by its worst frame. The cell distances go
with the scores as heat maps (``Scores.extras``), which the report draws over the top frames.

Measured on UCSD Ped2 (``tools/bench_video_ped2.py``, numbers in the package README).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Array, Int, declare
from omniad_video.cell_features import cell_cues, n_cues
from omniad_video.detectors.cell_knn.params import CellKNNParams
from omniad_video.detectors.frame_base import FrameDetector, RawScores, frame_level_scores
from omniad_video.frame_features import check_videos

#: distances held at once (cells x query frames x bank entries): 32 M floats, 128 MiB. Chunking
#: cells alone left query frames x bank frames in one block: 3.9 GB at 4,000 training frames
BLOCK_ELEMENTS = 1 << 25


class CellKNN(FrameDetector):
    Params = CellKNNParams
    params: CellKNNParams
    state_attributes = ("bank_", "mean_", "scale_", "k_")
    state_spec = declare(bank_=Array("n", "h", "w", "c"), mean_=Array("c"), scale_=Array("c"), k_=Int(ge=1, le="n"))

    def _cues(self, video: Any, where: str) -> np.ndarray:
        p = self.params
        return cell_cues(video, p.cell_size, p.lags, p.appearance, where, flow=p.flow,
                         flow_radius=p.flow_radius, flow_step=p.flow_step)

    def check_state(self, state: dict[str, Any]) -> None:
        p = self.params
        want = n_cues(p.lags, p.appearance, p.flow)
        if state["bank_"].shape[3] != want:
            raise DataError(f"{self.where}: the saved bank holds {state['bank_'].shape[3]} cues per cell but lags="
                            f"{list(p.lags)}, appearance={p.appearance}, flow={p.flow} make {want}; re-save the model")
        if len(state["bank_"]) > p.max_train_frames:
            raise DataError(f"{self.where}: the saved bank holds {len(state['bank_'])} frames, more than "
                            f"max_train_frames={p.max_train_frames}; re-save the model")
        if not np.all(np.asarray(state["scale_"]) > 0):
            raise DataError(f"{self.where}: saved scale_ must be positive; re-save the model")

    def _fit(self, samples: Sequence[Any]) -> None:
        where = f"{self.where}.fit"
        videos = check_videos(samples, where)
        shapes = {v.frames.shape[1:3] for v in videos}
        if len(shapes) > 1:
            raise DataError(f"{where}: training videos have different frame sizes {sorted(shapes)}; a cell model "
                            "needs one camera view (decode them at one size, e.g. the same max_side)")
        cues = np.concatenate([self._cues(v, where) for v in videos])
        if not np.all(np.isfinite(cues)):
            raise DataError(f"{where}: cell cues contain NaN/inf; check the frames")
        if len(cues) > self.params.max_train_frames:
            rng = np.random.default_rng(self.seed)
            cues = cues[np.sort(rng.choice(len(cues), self.params.max_train_frames, replace=False))]
        flat = cues.reshape(-1, cues.shape[-1]).astype(np.float64)
        self.mean_ = flat.mean(axis=0)
        # a cue constant over the training cells (a still camera's black border) keeps unit scale
        spread = flat.std(axis=0)
        self.scale_ = np.where(spread > 1e-6, spread, 1.0)
        self.bank_ = ((cues - self.mean_) / self.scale_).astype(np.float32)
        self.k_ = self._limit("k", self.params.k, len(self.bank_), f"only {len(self.bank_)} training frames")

    def cell_scores(self, video: Any, where: str = "") -> np.ndarray:
        """``(F_decoded, h, w)`` k-th nearest-neighbour distance of every cell: where the detector looked."""
        import torch

        where = where or f"{self.where}.score"
        cues = self._cues(video, where)
        if cues.shape[1:] != self.bank_.shape[1:]:
            raise DataError(
                f"{where}: video {video.name!r} gives a {cues.shape[1]}x{cues.shape[2]} grid of {cues.shape[3]} cues but "
                f"the detector was fitted on {self.bank_.shape[1]}x{self.bank_.shape[2]} x {self.bank_.shape[3]}; "
                "decode it at the training frame size"
            )
        query = torch.from_numpy(((cues - self.mean_) / self.scale_).astype(np.float32))
        _, h, w, c = self.bank_.shape
        r = self.params.neighbourhood
        bank = torch.from_numpy(np.pad(np.asarray(self.bank_, np.float32), ((0, 0), (r, r), (r, r), (0, 0)), mode="edge"))
        cells = [(i, j) for i in range(h) for j in range(w)]
        out = torch.empty(len(cues), h * w)
        k = int(self.k_)
        for start in range(0, len(cells), self.params.chunk_cells):
            part = cells[start : start + self.params.chunk_cells]
            q = torch.stack([query[:, i, j] for i, j in part])  # (cells, F, c)
            b = torch.stack([bank[:, i : i + 2 * r + 1, j : j + 2 * r + 1].reshape(-1, c) for i, j in part])
            rows = max(1, BLOCK_ELEMENTS // (len(part) * b.shape[1]))  # query frames per distance block
            for f0 in range(0, len(cues), rows):
                # the matrix-product form always (torch picks it only above 25 rows): a block's
                # size then does not change its distances
                d = torch.cdist(q[:, f0 : f0 + rows], b, compute_mode="use_mm_for_euclid_dist")
                out[f0 : f0 + rows, start : start + len(part)] = d.topk(k, dim=-1, largest=False).values[..., -1].T
        return out.reshape(len(cues), h, w).numpy().astype(np.float64)

    def _score(self, samples: Sequence[Any]) -> Scores:
        where = f"{self.where}.score"
        cell = self.params.cell_size

        def raw(video: Any) -> RawScores:
            maps = self.cell_scores(video, where)
            return maps.max(axis=(1, 2)), maps, (maps.shape[1] * cell, maps.shape[2] * cell)

        return frame_level_scores(check_videos(samples, where), raw, self.params)

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.k_ = int(self.k_)

    def provenance(self) -> dict[str, Any]:
        n, h, w, c = self.bank_.shape
        return {"train_frames": int(n), "grid": [int(h), int(w)], "cues": int(c)}
