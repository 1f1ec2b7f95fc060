"""``video.cell_knn``: each grid cell of a fixed camera compared with the normal cells at and around its place.

Whole-frame detectors miss what fills a small part of the frame; a cell-level one sees it,
and the frame scores by its worst cell (:mod:`omniad_video.cell_features` says which cues and
why). A cell's cues are compared with every training frame's cues at the same place and in
the ``neighbourhood`` around it (objects cross cell borders), by the distance to the k-th
nearest, after standardising each cue over all training cells. Scores are smoothed over time
and spread to every original frame; a video scores by its worst frame. The cell distances go
with the scores as heat maps (``Scores.extras``), which the report draws over the top frames.

With ``regions``, whole moving regions are scored too (:mod:`omniad_video.moving_regions`:
their place and size; with ``region_features`` also their crops,
:mod:`omniad_video.region_crops`), each against the normal regions by the k-th nearest
distance, a frame by its worst region. Distances of different kinds have no common unit, so
each kind is put on the scale of its own normal values before they are added: its median and
99th percentile over training frames scored against the *other* training videos (a frame
scored against its own video would find itself). Measured on UCSD Ped2
(``tools/bench_video_ped2.py``, numbers in the package README).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Array, Int, declare
from omniad_video.cell_features import cell_cues, flow_speed, gray_frames, grid_shape, n_cues
from omniad_video.detectors.cell_knn.params import CellKNNParams
from omniad_video.detectors.frame_base import FrameDetector, RawScores, frame_level_scores
from omniad_video.frame_features import check_videos
from omniad_video.moving_regions import GEOMETRY, Regions, moving_regions
from omniad_video.nearest import kth_distance
from omniad_video.smoothing import smooth_scores

#: distances held at once (cells x query frames x bank entries): 32 M floats, 128 MiB. Chunking
#: cells alone left query frames x bank frames in one block: 3.9 GB at 4,000 training frames
BLOCK_ELEMENTS = 1 << 25
#: training regions kept per kind (seeded subset) to bound memory and scoring time
MAX_REGIONS = 50_000
#: the normal-score quantiles that put each kind of distance on one scale: (x - q50) / (q99 - q50)
CALIBRATION_QUANTILES = (0.5, 0.99)
#: the kinds of score, in the order of ``stream_loc_`` / ``stream_scale_``
STREAMS = ("cells", "regions", "looks")
#: the saved entries that exist only with ``regions`` (and ``region_features``)
STATE_REGION_KEYS = ("region_bank_", "region_mean_", "region_scale_", "look_bank_", "look_mean_", "look_scale_",
                     "look_crop_size_", "stream_loc_", "stream_scale_")


def _block_rows(bank: np.ndarray) -> int:
    """Query regions per distance block against ``bank``: ``BLOCK_ELEMENTS`` distances at once."""
    return max(1, BLOCK_ELEMENTS // max(1, len(bank)))


class CellKNN(FrameDetector):
    Params = CellKNNParams
    params: CellKNNParams
    state_attributes = ("bank_", "mean_", "scale_", "k_", *STATE_REGION_KEYS)
    state_spec = declare(
        bank_=Array("n", "h", "w", "c"), mean_=Array("c"), scale_=Array("c"), k_=Int(ge=1, le="n"),
        region_bank_=Array("r", len(GEOMETRY), optional=True), region_mean_=Array(len(GEOMETRY), optional=True),
        region_scale_=Array(len(GEOMETRY), optional=True),
        look_bank_=Array("l", "d", optional=True), look_mean_=Array("d", optional=True),
        look_scale_=Array("d", optional=True), look_crop_size_=Int(ge=16, le=512, optional=True),
        stream_loc_=Array("s", optional=True), stream_scale_=Array("s", optional=True),
    )

    # -- per-video inputs ---------------------------------------------------------------------
    def _inputs(self, video: Any, where: str) -> tuple[np.ndarray, Regions | None]:
        """The video's cell cues and, with ``regions``, its moving regions (one block matching for both)."""
        p = self.params
        speed = None
        if p.flow:
            gray = gray_frames(video)
            h, w = grid_shape(gray.shape[1], gray.shape[2], p.cell_size, where)
            speed = flow_speed(gray[:, : h * p.cell_size, : w * p.cell_size], p.flow_radius, p.flow_step)
        cues = cell_cues(video, p.cell_size, p.lags, p.appearance, where, flow=p.flow, flow_radius=p.flow_radius,
                         flow_step=p.flow_step, speed=speed)
        regions = moving_regions(speed > 0, p.region_min_area) if p.regions else None
        return cues, regions

    def _cues(self, video: Any, where: str) -> np.ndarray:
        return self._inputs(video, where)[0]

    def _looks(self, video: Any, regions: Regions, where: str) -> np.ndarray:
        from omniad_video.region_crops import embed_regions
        from omniad_video.vision_backbone import vision_extractor

        p = self.params
        if getattr(self, "_extractor", None) is None:
            self._extractor = vision_extractor(p.region_features, p.region_layers, p.region_weights, self.device,
                                               self.seed, where, option="region_features",
                                               instead="leave region_features unset")
        return embed_regions(video.frames, regions, self._extractor, self.device, side=p.region_crop_size)

    def check_state(self, state: dict[str, Any]) -> None:
        p = self.params
        want = n_cues(p.lags, p.appearance, p.flow)
        if state["bank_"].shape[3] != want:
            raise DataError(f"{self.where}: the saved bank holds {state['bank_'].shape[3]} cues per cell but lags="
                            f"{list(p.lags)}, appearance={p.appearance}, flow={p.flow} make {want}; re-save the model")
        if len(state["bank_"]) > p.max_train_frames:
            raise DataError(f"{self.where}: the saved bank holds {len(state['bank_'])} frames, more than "
                            f"max_train_frames={p.max_train_frames}; re-save the model")
        for key in ("scale_", "region_scale_", "look_scale_", "stream_scale_"):
            if state.get(key) is not None and not np.all(np.asarray(state[key]) > 0):
                raise DataError(f"{self.where}: saved {key} must be positive; re-save the model")
        needed = (["region_bank_", "region_mean_", "region_scale_", "stream_loc_", "stream_scale_"] if p.regions else []) + (
            ["look_bank_", "look_mean_", "look_scale_", "look_crop_size_"] if p.region_features else [])
        missing = [k for k in needed if state.get(k) is None]
        if missing:
            raise DataError(f"{self.where}: regions={p.regions}, region_features={p.region_features!r} need saved "
                            f"{', '.join(missing)}; the model was saved with other settings: re-fit it")
        if p.region_features and int(state["look_crop_size_"]) != p.region_crop_size:
            raise DataError(f"{self.where}: the saved region crops were {state['look_crop_size_']} px but "
                            f"region_crop_size={p.region_crop_size}; set region_crop_size={state['look_crop_size_']} "
                            "or re-fit the model")
        if p.regions and len(state["stream_loc_"]) != 2 + bool(p.region_features):
            raise DataError(f"{self.where}: saved stream_loc_ has {len(state['stream_loc_'])} entries for "
                            f"{2 + bool(p.region_features)} kinds of score; re-fit the model")

    # -- fit ---------------------------------------------------------------------------------
    def _fit(self, samples: Sequence[Any]) -> None:
        where = f"{self.where}.fit"
        p = self.params
        videos = check_videos(samples, where)
        shapes = {v.frames.shape[1:3] for v in videos}
        if len(shapes) > 1:
            raise DataError(f"{where}: training videos have different frame sizes {sorted(shapes)}; a cell model "
                            "needs one camera view (decode them at one size, e.g. the same max_side)")
        self._extractor = None
        inputs = [self._inputs(v, where) for v in videos]
        per_video = [c for c, _ in inputs]
        all_cues = cues = np.concatenate(per_video)
        if not np.all(np.isfinite(cues)):
            raise DataError(f"{where}: cell cues contain NaN/inf; check the frames")
        group = self._groups([len(c) for c in per_video])
        rng = np.random.default_rng(self.seed)
        keep = np.arange(len(cues))
        if len(cues) > p.max_train_frames:
            keep = np.sort(rng.choice(len(cues), p.max_train_frames, replace=False))
        cues = cues[keep]
        flat = cues.reshape(-1, cues.shape[-1]).astype(np.float64)
        self.mean_ = flat.mean(axis=0)
        # a cue constant over the training cells (a still camera's black border) keeps unit scale
        spread = flat.std(axis=0)
        self.scale_ = np.where(spread > 1e-6, spread, 1.0)
        self.bank_ = ((cues - self.mean_) / self.scale_).astype(np.float32)
        self.k_ = self._limit("k", p.k, len(self.bank_), f"only {len(self.bank_)} training frames")
        for key in STATE_REGION_KEYS:
            setattr(self, key, None)
        if p.regions:
            self._fit_regions(videos, inputs, all_cues, group, keep, rng, where)

    @staticmethod
    def _groups(lengths: list[int]) -> np.ndarray:
        """Per training frame, the part it is held out with when the scores are calibrated: its video, or
        with a single video, its half (earlier / later frames)."""
        if len(lengths) > 1:
            return np.concatenate([np.full(n, i) for i, n in enumerate(lengths)])
        return (np.arange(lengths[0]) >= lengths[0] / 2).astype(np.int64)

    def _fit_regions(self, videos: list[Any], inputs: list[tuple[np.ndarray, Regions | None]], all_cues: np.ndarray,
                     group: np.ndarray, keep: np.ndarray, rng: np.random.Generator, where: str) -> None:
        p = self.params
        offsets = np.cumsum([0] + [len(c) for c, _ in inputs])
        regions = [r for _, r in inputs]
        frame_of = np.concatenate([r.frame + offsets[i] for i, r in enumerate(regions)])  # global training frame
        geometry = np.concatenate([r.geometry for r in regions])
        streams = {"regions": geometry}
        if p.region_features:
            streams["looks"] = np.concatenate([self._looks(v, r, where) for v, r in zip(videos, regions, strict=True)])
            self.look_crop_size_ = p.region_crop_size  # the bank holds crops of this size: a model loaded with another fails
        if len(frame_of) > MAX_REGIONS:
            sub = np.sort(rng.choice(len(frame_of), MAX_REGIONS, replace=False))
            frame_of, streams = frame_of[sub], {k: v[sub] for k, v in streams.items()}
        region_group = group[frame_of] if len(frame_of) else np.zeros(0, np.int64)
        # held-out scores of the frames of whole training videos (evenly spread), smoothed as scores are
        runs = self._calibration_runs([len(c) for c, _ in inputs], p.calibration_frames)
        picked = np.concatenate([np.arange(offsets[v], offsets[v + 1]) for v in runs])
        held = [self._held_out_cells(picked, group, keep, all_cues)]
        for name, values in streams.items():
            mean = values.mean(axis=0) if len(values) else np.zeros(values.shape[1])
            spread = values.std(axis=0) if len(values) else np.ones(values.shape[1])
            scale = np.where(spread > 1e-6, spread, 1.0)
            bank = ((values - mean) / scale).astype(np.float32)
            prefix = "region" if name == "regions" else "look"
            setattr(self, f"{prefix}_bank_", bank)
            setattr(self, f"{prefix}_mean_", mean.astype(np.float64))
            setattr(self, f"{prefix}_scale_", scale.astype(np.float64))
            held.append(self._held_out_regions(bank, frame_of, region_group, picked, group))
        loc, scale = [], []
        bounds = np.cumsum([0] + [offsets[v + 1] - offsets[v] for v in runs])
        for name, values in zip(STREAMS, held, strict=False):
            values = np.concatenate([smooth_scores(values[a:b], p.smoothing, p.smoothing_window, causal=p.causal)
                                     for a, b in pairwise(bounds)])
            values = values[np.isfinite(values)]
            if len(values) < 2:
                warnings.warn(f"{where}: too few training frames to calibrate the {name} scores against other "
                              "training videos; they are added unscaled", stacklevel=2)
                loc.append(0.0)
                scale.append(1.0)
                continue
            lo, hi = np.quantile(values, CALIBRATION_QUANTILES)
            spread = float(hi - lo) if hi - lo > 1e-9 else float(np.std(values))
            loc.append(float(lo))
            scale.append(spread if spread > 1e-9 else 1.0)  # all held-out values alike (no regions at all): unscaled
        self.stream_loc_, self.stream_scale_ = np.asarray(loc), np.asarray(scale)

    @staticmethod
    def _calibration_runs(lengths: list[int], budget: int) -> list[int]:
        """The training videos whose frames calibrate the scores: whole videos (their scores are smoothed
        over time like any video's), every ``step``-th so that about ``budget`` frames are scored; all when they fit."""
        step = max(1, int(np.ceil(sum(lengths) / budget)))
        return list(range(0, len(lengths), step))

    def _held_out_cells(self, picked: np.ndarray, group: np.ndarray, keep: np.ndarray,
                        all_cues: np.ndarray) -> np.ndarray:
        """Worst-cell distance of each picked training frame (rows of ``all_cues``, every training frame's
        cues) against the bank frames of the other parts."""
        bank_group = group[keep]
        out = np.full(len(picked), np.nan)
        for g in np.unique(group[picked]):
            rows = picked[group[picked] == g]
            others = self.bank_[bank_group != g]
            if len(others) < 1:
                continue
            query = ((all_cues[rows] - self.mean_) / self.scale_).astype(np.float32)
            k = min(int(self.k_), len(others))
            out[group[picked] == g] = self._cell_distances(query, others, k).max(axis=(1, 2))
        return out

    def _held_out_regions(self, bank: np.ndarray, frame_of: np.ndarray, region_group: np.ndarray, picked: np.ndarray,
                          group: np.ndarray) -> np.ndarray:
        """Worst-region distance of each picked training frame against the regions of the other parts (0 = none)."""
        out = np.full(len(picked), np.nan)
        position = {int(f): i for i, f in enumerate(picked)}
        for g in np.unique(group[picked]):
            mine = (region_group == g) & np.isin(frame_of, picked)
            others = bank[region_group != g]
            if len(others) < 1:
                continue
            out[group[picked] == g] = 0.0
            d = kth_distance(bank[mine], others, self.params.region_k, _block_rows(others))
            for f, value in zip(frame_of[mine], d, strict=True):
                i = position[int(f)]
                out[i] = max(out[i], value)
        return out

    # -- score --------------------------------------------------------------------------------
    def _cell_distances(self, query: np.ndarray, bank: np.ndarray, k: int) -> np.ndarray:
        """``(F, h, w)`` k-th nearest distance of standardised cues ``query`` against ``bank`` (same grid)."""
        import torch

        q_all = torch.from_numpy(np.ascontiguousarray(query, dtype=np.float32))
        _, h, w, c = bank.shape
        r = self.params.neighbourhood
        padded = torch.from_numpy(np.pad(np.asarray(bank, np.float32), ((0, 0), (r, r), (r, r), (0, 0)), mode="edge"))
        cells = [(i, j) for i in range(h) for j in range(w)]
        out = torch.empty(len(query), h * w)
        for start in range(0, len(cells), self.params.chunk_cells):
            part = cells[start : start + self.params.chunk_cells]
            q = torch.stack([q_all[:, i, j] for i, j in part])  # (cells, F, c)
            b = torch.stack([padded[:, i : i + 2 * r + 1, j : j + 2 * r + 1].reshape(-1, c) for i, j in part])
            rows = max(1, BLOCK_ELEMENTS // (len(part) * b.shape[1]))  # query frames per distance block
            for f0 in range(0, len(query), rows):
                # the matrix-product form always (torch picks it only above 25 rows): a block's
                # size then does not change its distances
                d = torch.cdist(q[:, f0 : f0 + rows], b, compute_mode="use_mm_for_euclid_dist")
                out[f0 : f0 + rows, start : start + len(part)] = d.topk(k, dim=-1, largest=False).values[..., -1].T
        return out.reshape(len(query), h, w).numpy().astype(np.float64)

    def _checked_cues(self, video: Any, where: str) -> tuple[np.ndarray, Regions | None]:
        cues, regions = self._inputs(video, where)
        if cues.shape[1:] != self.bank_.shape[1:]:
            raise DataError(
                f"{where}: video {video.name!r} gives a {cues.shape[1]}x{cues.shape[2]} grid of {cues.shape[3]} cues but "
                f"the detector was fitted on {self.bank_.shape[1]}x{self.bank_.shape[2]} x {self.bank_.shape[3]}; "
                "decode it at the training frame size"
            )
        return cues, regions

    def cell_scores(self, video: Any, where: str = "") -> np.ndarray:
        """``(F_decoded, h, w)`` k-th nearest-neighbour distance of every cell: where the detector looked."""
        where = where or f"{self.where}.score"
        cues, _ = self._checked_cues(video, where)
        return self._cell_distances((cues - self.mean_) / self.scale_, self.bank_, int(self.k_))

    def stream_scores(self, video: Any, where: str = "") -> dict[str, np.ndarray]:
        """Per kind of score (cells, regions, looks), each decoded frame's raw worst distance and, for the
        region kinds, each region's distance (``"<kind>_per_region"``) with the regions (``"regions_found"``)."""
        where = where or f"{self.where}.score"
        cues, regions = self._checked_cues(video, where)
        cells = self._cell_distances((cues - self.mean_) / self.scale_, self.bank_, int(self.k_))
        out: dict[str, Any] = {"cell_maps": cells, "cells": cells.max(axis=(1, 2))}
        if regions is None:
            return out
        out["regions_found"] = regions
        kinds = [("regions", regions.geometry, "region")]
        if self.params.region_features:
            kinds.append(("looks", self._looks(video, regions, where), "look"))
        for name, values, prefix in kinds:
            bank = getattr(self, f"{prefix}_bank_")
            query = (values - getattr(self, f"{prefix}_mean_")) / getattr(self, f"{prefix}_scale_")
            d = kth_distance(query, bank, self.params.region_k, _block_rows(bank)) if len(bank) else np.zeros(len(query))
            out[f"{name}_per_region"] = d
            out[name] = regions.frame_max(d, len(cues))
        return out

    def _score(self, samples: Sequence[Any]) -> Scores:
        where = f"{self.where}.score"
        cell = self.params.cell_size

        def raw(video: Any) -> RawScores:
            if not self.params.regions:
                maps = self.cell_scores(video, where)
                return maps.max(axis=(1, 2)), maps, (maps.shape[1] * cell, maps.shape[2] * cell)
            s = self.stream_scores(video, where)
            loc, scale = self.stream_loc_, self.stream_scale_
            maps = (s["cell_maps"] - loc[0]) / scale[0]
            total = (s["cells"] - loc[0]) / scale[0]
            per_region = np.zeros(len(s["regions_found"]))
            for i, name in enumerate(STREAMS[1 : len(loc)], start=1):
                total = total + (s[name] - loc[i]) / scale[i]
                per_region = per_region + (s[f"{name}_per_region"] - loc[i]) / scale[i]
            return total, self._paint(maps, s["regions_found"], per_region), (maps.shape[1] * cell, maps.shape[2] * cell)

        return frame_level_scores(check_videos(samples, where), raw, self.params)

    def _paint(self, maps: np.ndarray, regions: Regions, values: np.ndarray) -> np.ndarray:
        """The cell map plus, on the cells each region's box touches, the region's own (positive) scores."""
        cell = self.params.cell_size
        extra = np.zeros_like(maps)
        for f, (r0, c0, r1, c1), v in zip(regions.frame, regions.boxes, np.maximum(values, 0.0), strict=True):
            rows, cols = slice(r0 // cell, (r1 - 1) // cell + 1), slice(c0 // cell, (c1 - 1) // cell + 1)
            extra[f, rows, cols] = np.maximum(extra[f, rows, cols], v)
        return maps + extra

    # -- state --------------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        state = {"bank_": self.bank_, "mean_": self.mean_, "scale_": self.scale_, "k_": int(self.k_)}
        state.update({k: getattr(self, k) for k in STATE_REGION_KEYS if getattr(self, k, None) is not None})
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        for key in STATE_REGION_KEYS:
            setattr(self, key, None)
        super().set_state(state)
        self.k_ = int(self.k_)
        self._extractor = None

    def provenance(self) -> dict[str, Any]:
        n, h, w, c = self.bank_.shape
        out: dict[str, Any] = {"train_frames": int(n), "grid": [int(h), int(w)], "cues": int(c)}
        if getattr(self, "region_bank_", None) is not None:
            out["train_regions"] = len(self.region_bank_)
            out["score_scales"] = {name: [float(lo), float(s)] for name, lo, s in
                                   zip(STREAMS, self.stream_loc_, self.stream_scale_, strict=False)}
        return out

