"""Per-cell motion and appearance cues of a fixed camera's frames (``video.cell_knn``).

A surveillance anomaly is usually small and local: a bicycle among pedestrians fills a few
percent of the frame, so whole-frame vectors (a thumbnail, a pooled backbone) barely move
(frame kNN on pixels: 0.71 frame AUROC on UCSD Ped2). Cut into cells, the same frame shows
it plainly in one cell, and since the camera does not move, a cell can be compared with what
was normal at that place. Per cell and lag ``L``:

* motion energy: mean ``|I_t - I_{t-L}|``;
* normal-flow speed: ``sum |I_t - I_{t-L}| |grad I| / sum |grad I|^2``, the least-squares
  speed along the image gradient (the optical-flow constraint ``I_t + v . grad I = 0``
  without solving for the direction): a cyclist crossing moves several times faster than the
  walkers. Direction is left out on purpose: on a walkway people go both ways, and signed
  cell velocities (Lucas-Kanade per cell) measured worse on UCSD Ped2 (0.75 against 0.86
  frame AUROC), so a walker going against a one-way flow is not what this detector sees;

and with ``appearance``: edge density (mean gradient magnitude), brightness and contrast;
with ``flow``: the speed of what moves in the cell, from block matching between consecutive
frames (:mod:`omniad_video.block_flow`), in 1-pixel shifts; ``video.cell_knn`` matches every
pixel with shifts up to 4 pixels (every second pixel costs a quarter and measured 0.939 against
0.953 on UCSD Ped2; this function's own defaults are that cheaper setting): mean speed, 90th-percentile speed (one
fast object in a cell of walkers) and the fraction of moving pixels, in decoded pixels per frame. The normal-flow speed
above is a least-squares guess from one pixel's brightness change; matching follows the texture
itself, and on UCSD Ped2 it is what lifts the detector (README). Only the speed goes in, not the
direction, for the reason given above (a 4-direction histogram of the block-matching flow
measured 0.927 against 0.953 for speed only, both matching every pixel with radius 4).
Plain numpy/scipy on the decoded grayscale frames.
"""

from __future__ import annotations

import numpy as np

from omniad.errors import DataError
from omniad_video.block_flow import block_flow
from omniad_video.samples import FrameVideo

#: gradient energy added to the denominator of the speed: flat cells (no texture) read as still
_FLAT = 1e-3
#: the speed quantile of a cell's moving pixels kept beside the mean
_FAST = 0.9


def n_cues(lags: tuple[int, ...], appearance: bool, flow: bool = False) -> int:
    return 2 * len(lags) + (3 if appearance else 0) + (3 if flow else 0)


def flow_speed(gray: np.ndarray, radius: int, step: int = 2) -> np.ndarray:
    """``(F, H, W)`` block-matching speed of ``gray`` in pixels per frame (lag 1, shifts up to ``radius``
    pixels), matched at every ``step``-th pixel and spread over the ``step`` x ``step`` block it stands for."""
    _, height, width = gray.shape
    # the matched window spans about 7 pixels whatever the step (7 x 7 at every pixel, 3 x 3 at every second)
    u, v = block_flow(gray, lag=1, radius=radius, window=max(3, 7 // step), step=step)
    speed = np.hypot(u, v).repeat(step, axis=1).repeat(step, axis=2)
    return speed[:, :height, :width]


def grid_shape(height: int, width: int, cell: int, where: str) -> tuple[int, int]:
    h, w = height // cell, width // cell
    if h < 1 or w < 1:
        raise DataError(f"{where}: frames of {height}x{width} pixels hold no {cell}-pixel cell; lower cell_size")
    return h, w


def gray_frames(video: FrameVideo) -> np.ndarray:
    """``(F, H, W)`` float32 grey levels in ``[0, 1]`` of the decoded frames."""
    return video.frames.astype(np.float32).mean(axis=3) / 255.0


def cell_cues(video: FrameVideo, cell: int, lags: tuple[int, ...], appearance: bool, where: str,
              flow: bool = False, flow_radius: int = 3, flow_step: int = 2,
              speed: np.ndarray | None = None) -> np.ndarray:
    """``(F, h, w, cues)`` float32 for the decoded frames of one video; ``speed`` is the video's
    :func:`flow_speed` when the caller has it already (the moving regions need it too)."""
    gray = gray_frames(video)
    n, height, width = gray.shape
    h, w = grid_shape(height, width, cell, where)
    gray = gray[:, : h * cell, : w * cell]

    def pool(x: np.ndarray) -> np.ndarray:
        return x.reshape(n, h, cell, w, cell).mean(axis=(2, 4))

    gy, gx = np.gradient(gray, axis=(1, 2))
    grad = np.hypot(gx, gy)
    texture = pool(grad * grad) + _FLAT
    cues = []
    for lag in lags:
        diff = np.zeros_like(gray)
        if n > lag:
            diff[lag:] = np.abs(gray[lag:] - gray[:-lag])
            diff[:lag] = diff[lag]  # the first frames have no frame L back: they repeat the first they can have
        cues += [pool(diff), pool(diff * grad) / texture]
    if appearance:
        mean = pool(gray)
        cues += [pool(grad), mean, np.sqrt(np.maximum(pool(gray * gray) - mean * mean, 0.0))]
    if flow:
        speed = flow_speed(gray, flow_radius, flow_step) if speed is None else speed[:, : h * cell, : w * cell]
        blocks = speed.reshape(n, h, cell, w, cell).transpose(0, 1, 3, 2, 4).reshape(n, h, w, cell * cell)
        cues += [pool(speed), np.quantile(blocks, _FAST, axis=-1), pool((speed > 0).astype(np.float32))]
    return np.stack(cues, axis=-1).astype(np.float32)
