"""``video.future_frame``: anomalies are frames the model cannot predict from the past ones.

Liu et al. (CVPR 2018) train a U-Net on normal videos to predict frame t+1 from frames
t-3..t; an unusual appearance or motion gives a poor prediction, so the negative PSNR
of the prediction is the anomaly score. Frames are resized to a small grayscale square
(``frame_size``) so training fits a CPU; the first ``n_context`` frames of a video have
no prediction and take the first computed score. Where the prediction erred (squared
error pooled to a coarse grid) goes with the scores as a heat map for the report.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from omniad.errors import ConfigError, DataError
from omniad.scores import Scores
from omniad.state import Float, Int, Json, Module, declare
from omniad.torchstate import load_module_arrays, module_arrays
from omniad_video.detectors.frame_base import FrameDetector, RawScores, frame_level_scores
from omniad_video.detectors.future_frame.params import FutureFrameParams
from omniad_video.frame_features import check_videos
from omniad_video.samples import FrameVideo

MODULE = "unet"
#: cells per side of the prediction-error heat map returned with the scores
HEAT_CELLS = 16


class FutureFrame(FrameDetector):
    uses_torch = True
    Params = FutureFrameParams
    params: FutureFrameParams
    #: one mean loss per epoch, the number of training windows, the U-Net (rebuilt from the params, loaded strictly)
    state_spec = declare(
        train_losses_=Json(types=(list,), items=Float(ge=0), length="params.epochs"),
        n_windows_=Int(ge=1),
        **{MODULE: Module()},
    )

    def _check_config(self) -> None:
        if self.params.frame_size % (2 ** self.params.depth):
            raise ConfigError(
                f"{self.where}: frame_size={self.params.frame_size} must be a multiple of 2**depth="
                f"{2 ** self.params.depth}; use e.g. frame_size=64 with depth<=6"
            )

    def _frames(self, video: FrameVideo) -> Any:
        """``(F, S, S)`` grayscale tensor in ``[-1, 1]`` on the device, resized chunk by chunk."""
        import torch
        import torch.nn.functional as F

        size = self.params.frame_size
        out = []
        for i in range(0, len(video.frames), 256):
            x = torch.from_numpy(np.ascontiguousarray(video.frames[i:i + 256])).permute(0, 3, 1, 2).float() / 255.0
            gray = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)
            out.append(F.interpolate(gray, size=(size, size), mode="area")[:, 0] * 2.0 - 1.0)
        return torch.cat(out).to(self.device)

    def _build(self) -> Any:
        from omniad_video.detectors.future_frame.model import UNet

        return UNet(self.params.n_context, self.params.base_channels, self.params.depth).to(self.device)

    def _fit(self, samples: Sequence[Any]) -> None:
        import torch

        from omniad_video.detectors.future_frame.model import gradient_loss

        self._check_config()
        videos = check_videos(samples, f"{self.where}.fit")
        t = self.params.n_context
        clips = [self._frames(v) for v in videos]
        windows = [(c, j) for c, clip in enumerate(clips) for j in range(len(clip) - t)]
        if not windows:
            raise DataError(
                f"{self.where}.fit: no training video has more than n_context={t} decoded frames; "
                "pass longer videos or lower n_context"
            )
        gen = torch.Generator().manual_seed(0 if self.seed is None else int(self.seed))
        self.module_ = self._build()
        opt = torch.optim.Adam(self.module_.parameters(), lr=self.params.lr)
        self.module_.train()
        losses = []
        for _ in range(self.params.epochs):
            order = torch.randperm(len(windows), generator=gen)[: self.params.max_windows].tolist()
            total = 0.0
            for b in range(0, len(order), self.params.batch_size):
                batch = [windows[i] for i in order[b:b + self.params.batch_size]]
                stack = torch.stack([clips[c][j:j + t + 1] for c, j in batch])
                pred = self.module_(stack[:, :t])
                target = stack[:, t:]
                loss = ((pred - target) ** 2).mean() + self.params.gradient_weight * gradient_loss(pred, target)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(batch)
            losses.append(total / len(order))
        self.module_.eval()
        self.train_losses_ = [float(v) for v in losses]
        self.n_windows_ = len(windows)

    def predictions(self, video: FrameVideo) -> Iterator[tuple[Any, Any]]:
        """``(predicted, true)`` frames, ``(B, 1, S, S)`` in ``[-1, 1]``, for every decoded frame after the first
        ``n_context``, ``score_batch_size`` at a time (no gradients): what scores and error maps are made of."""
        import torch

        t = self.params.n_context
        clip = self._frames(video)
        if len(clip) <= t:
            raise DataError(
                f"{self.where}.score: video {video.name!r} has {len(clip)} decoded frames, but predicting a frame "
                f"needs n_context={t} before it; pass longer videos or lower n_context"
            )
        with torch.no_grad():
            for s in range(t, len(clip), self.params.score_batch_size):
                idx = list(range(s, min(s + self.params.score_batch_size, len(clip))))
                yield self.module_(torch.stack([clip[j - t:j] for j in idx])), clip[idx].unsqueeze(1)

    def _psnr(self, video: FrameVideo) -> tuple[np.ndarray, np.ndarray]:
        """PSNR of each decoded frame's prediction, and where it erred: the squared error pooled to a
        grid of about 16 x 16 cells (the report's heat map; full-size maps would be 16x the memory)."""
        import torch.nn.functional as F

        from omniad_video.detectors.future_frame.model import psnr

        t = self.params.n_context
        pool = max(1, self.params.frame_size // HEAT_CELLS)
        values, maps = [], []
        for pred, target in self.predictions(video):
            values.append(psnr(pred, target).cpu().numpy())
            maps.append(F.avg_pool2d(((pred - target) / 2.0) ** 2, pool)[:, 0].cpu().numpy())
        scores = np.concatenate(values).astype(np.float64)
        heat = np.concatenate(maps)
        return np.concatenate([np.full(t, scores[0]), scores]), np.concatenate([np.repeat(heat[:1], t, axis=0), heat])

    def _raw(self, video: FrameVideo) -> RawScores:
        value, heat = self._psnr(video)
        extent = video.frames.shape[1:3]  # the whole frame was resized to the model's square
        if self.params.normalize_per_video:
            span = value.max() - value.min()
            return (1.0 - (value - value.min()) / span if span > 0 else np.zeros_like(value)), heat, extent
        return -value, heat, extent

    def _score(self, samples: Sequence[Any]) -> Scores:
        return frame_level_scores(check_videos(samples, f"{self.where}.score"), self._raw, self.params)

    def get_state(self) -> dict[str, Any]:
        return {"train_losses_": list(self.train_losses_), "n_windows_": int(self.n_windows_),
                **module_arrays(self.module_, MODULE)}

    def set_state(self, state: dict[str, Any]) -> None:
        self._check_config()
        self.module_ = self._build()
        load_module_arrays(self.module_, state, MODULE)
        self.module_.to(self.device).eval()
        self.train_losses_ = [float(v) for v in state["train_losses_"]]
        self.n_windows_ = int(state["n_windows_"])

    def provenance(self) -> dict[str, Any]:
        return {
            "train_windows": int(getattr(self, "n_windows_", 0)),
            "final_train_loss": (self.train_losses_[-1] if getattr(self, "train_losses_", None) else None),
            "losses": "intensity L2 + gradient; adversarial and optical-flow losses omitted",
        }
