"""``video.ucsd`` on the real UCSD Ped2 frame-folder release in ../shared (skipped where it is absent)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from omniad.plugins import get_registry
from omniad.shared import shared_data_root
from omniad_video.datasets import probes
from omniad_video.datasets.frames import parse_ucsd_m, parse_ucsd_mat

PED2 = shared_data_root() / "data" / "ucsd_ped2"
needs_ped2 = pytest.mark.skipif(not (PED2 / "UCSDped2.m").is_file(),
                                reason=f"UCSD Ped2 not found at {PED2} (set OMNIAD_SHARED_DATA to the shared folder)")
#: frames per test video, from the dataset's own description
TEST_FRAMES = [180, 180, 150, 180, 150, 180, 180, 180, 120, 150, 180, 180]


def _m_ranges() -> list[tuple[int, int]]:
    """The ``gt_frame = [a:b]`` ranges read here by a regex of their own (1-based inclusive)."""
    text = (PED2 / "UCSDped2.m").read_text()
    return [(int(a), int(b)) for a, b in re.findall(r"gt_frame = \[(\d+):(\d+)\]", text)]


@needs_ped2
def test_mat_and_m_give_the_same_ranges() -> None:
    expected = [[(a - 1, b)] for a, b in _m_ranges()]  # 0-based half-open
    assert len(expected) == 12
    assert parse_ucsd_m(PED2 / "UCSDped2.m") == expected
    assert parse_ucsd_mat(PED2 / "ped2.mat") == expected


@needs_ped2
def test_ped2_frame_counts_and_labels() -> None:
    entry = get_registry().get("dataset", "video.ucsd")
    # a bare path picks this loader over the other frame-folder readers
    assert probes.ucsd(PED2) > max(probes.shanghaitech(PED2), probes.avenue(PED2), probes.frames(PED2))
    (sub,) = list(entry.create({"root": str(PED2), "max_side": 32}).iter_subsets())
    assert len(sub.train.samples) == 16 and sum(v.n_frames for v in sub.train.samples) == 2550
    assert [v.n_frames for v in sub.test.samples] == TEST_FRAMES
    for target, (a, b), video_id in zip(sub.test.targets, _m_ranges(), sub.test.ids, strict=True):
        anomalous = np.flatnonzero(target)
        # frame k of the ground truth is file (k-1).jpg: the first flagged index is a-1, the last b-1
        assert (anomalous[0], anomalous[-1], len(anomalous)) == (a - 1, b - 1, b - a + 1), video_id
    assert sum(int(t.sum()) for t in sub.test.targets) == sum(b - a + 1 for a, b in _m_ranges())
