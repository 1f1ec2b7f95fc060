"""Moving regions: the connected groups of pixels that block matching saw move, taken as objects.

``video.cell_knn``'s cells cut objects at fixed borders, and one cell of a cyclist looks much
like one cell of a walker. A region follows the object instead: its place, size and shape
(a cyclist is wider than a walker at the same place, a cart larger) and its crop (what it
looks like) can be compared with the regions of normal video. On UCSD Ped2 the regions' place
and size alone scored frame AUROC 0.960 with the same kNN as the cells (0.953), crops through
an ImageNet MobileNetV2 0.922, and the three together 0.97 (package README).

A region is a connected component (8-neighbourhood) of the moving pixels after a one-step
morphological closing, which joins the pieces of one walker (legs and arms move, the trunk
barely does) without merging people a few pixels apart; regions smaller than ``min_area``
pixels (sensor noise, a moving hand) are dropped. Plain scipy.ndimage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from omniad.errors import DataError

#: what each row of :attr:`Regions.geometry` holds: the box centre as a fraction of the frame's
#: height and width, the box height and width and the region's area in pixels, and the share of
#: the box the region fills
GEOMETRY = ("centre_row", "centre_col", "height", "width", "area", "fill")
_EIGHT = ndimage.generate_binary_structure(2, 2)


@dataclass(frozen=True)
class Regions:
    """The moving regions of one video: ``frame[i]`` is the decoded frame region ``i`` is in,
    ``boxes[i]`` its ``(row0, col0, row1, col1)`` box (end exclusive), ``geometry[i]`` its
    :data:`GEOMETRY` row."""

    frame: np.ndarray
    boxes: np.ndarray
    geometry: np.ndarray

    def __len__(self) -> int:
        return len(self.frame)

    def frame_max(self, values: np.ndarray, n_frames: int) -> np.ndarray:
        """``(n_frames,)``: each frame's largest value over its regions, 0 for a frame without one."""
        out = np.zeros(n_frames)
        if len(values):
            np.maximum.at(out, self.frame, np.asarray(values, dtype=np.float64))
        return out


def moving_regions(moving: np.ndarray, min_area: int = 12, closing: int = 1) -> Regions:
    """The regions of ``moving``, an ``(F, H, W)`` mask of the pixels that moved in each frame."""
    moving = np.asarray(moving, dtype=bool)
    if moving.ndim != 3:
        raise DataError(f"moving_regions: expected an (F, H, W) mask, got shape {moving.shape}")
    _, height, width = moving.shape
    frames, boxes, geometry = [], [], []
    for f, mask in enumerate(moving):
        if not mask.any():
            continue
        joined = ndimage.binary_closing(mask, _EIGHT, iterations=closing) | mask if closing else mask
        labels, _ = ndimage.label(joined, _EIGHT)
        for index, box in enumerate(ndimage.find_objects(labels), start=1):
            if box is None:
                continue
            area = int(np.count_nonzero(labels[box] == index))
            if area < min_area:
                continue
            r0, r1, c0, c1 = box[0].start, box[0].stop, box[1].start, box[1].stop
            h, w = r1 - r0, c1 - c0
            frames.append(f)
            boxes.append((r0, c0, r1, c1))
            geometry.append(((r0 + r1) / 2 / height, (c0 + c1) / 2 / width, h, w, area, area / (h * w)))
    return Regions(frame=np.asarray(frames, dtype=np.int64), boxes=np.asarray(boxes, dtype=np.int64).reshape(-1, 4),
                   geometry=np.asarray(geometry, dtype=np.float32).reshape(-1, len(GEOMETRY)))
