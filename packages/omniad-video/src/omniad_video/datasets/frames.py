"""Frame-folder benchmarks: UCSD Ped1/Ped2, ShanghaiTech and CUHK Avenue (frame-folder release).

Layouts (written by ``generator.write_benchmark`` for the tests; see docs/datasets.md):

* UCSD: ``UCSDped2/Train/TrainNNN/*.tif``, ``UCSDped2/Test/TestNNN/*.tif`` and the frame
  ranges of the anomalies in ``UCSDped2/Test/UCSDped2.m``
  (``TestVideoFile{end+1}.gt_frame = [61:180];``, 1-based, one line per test video in order;
  ``TestNNN_gt`` pixel-mask folders are not needed for frame-level scores and are skipped).
* ShanghaiTech / Avenue: ``training/frames/<video>/NNN.jpg``, ``testing/frames/<video>/NNN.jpg``
  and per-video frame labels ``testing/test_frame_mask/<video>.npy`` (0/1 per frame).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from omniad.data import Split, Subset
from omniad.errors import DataError
from omniad_video.datasets.params import FramesParams, UCSDParams
from omniad_video.datasets.render import RendersFrames
from omniad_video.decode import read_frame_folder

_GT = re.compile(r"gt_frame\s*=\s*\[([^\]]*)\]")


def parse_ucsd_m(path: Path) -> list[list[tuple[int, int]]]:
    """The anomalous frame ranges of every test video, 0-based half-open, from UCSD's ``.m`` file."""
    if not path.is_file():
        raise DataError(f"{path}: the UCSD ground-truth file is missing")
    videos = []
    for line in path.read_text(errors="replace").splitlines():
        m = _GT.search(line)
        if not m:
            continue
        ranges = []
        for part in re.split(r"[,\s]+", m.group(1).strip()):
            if not part:
                continue
            lo, _, hi = part.partition(":")
            try:
                a, b = int(lo), int(hi or lo)
            except ValueError:
                raise DataError(f"{path}: cannot read frame range {part!r} in {line.strip()!r}") from None
            ranges.append((a - 1, b))
        videos.append(ranges)
    if not videos:
        raise DataError(f"{path}: no 'gt_frame = [...]' lines found")
    return videos


def _labels(n_frames: int, ranges: list[tuple[int, int]], where: str) -> np.ndarray:
    labels = np.zeros(n_frames, np.int8)
    for a, b in ranges:
        if a < 0 or b > n_frames or a >= b:
            raise DataError(f"{where}: anomalous frames {a + 1}..{b} lie outside the video's {n_frames} frames")
        labels[a:b] = 1
    return labels


def _folders(root: Path, where: str) -> list[Path]:
    if not root.is_dir():
        raise DataError(f"{where}: expected folder {root} is missing")
    found = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.endswith("_gt"))
    if not found:
        raise DataError(f"{where}: {root} holds no video folders")
    return found


class UCSD(RendersFrames):
    Params = UCSDParams

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        name = "UCSDped1" if p.subset == "ped1" else "UCSDped2"
        base = Path(p.root) / name if (Path(p.root) / name).is_dir() else Path(p.root)
        read = {"stride": p.stride, "max_side": p.max_side}
        train_dirs = _folders(base / "Train", self.where)
        train = [read_frame_folder(d, **read, label=0) for d in train_dirs]
        tests = _folders(base / "Test", self.where)
        gt = parse_ucsd_m(base / "Test" / f"{name}.m")
        if len(gt) != len(tests):
            raise DataError(f"{base / 'Test' / f'{name}.m'}: {len(gt)} ground-truth lines for {len(tests)} test videos")
        samples, targets = [], []
        for folder, ranges in zip(tests, gt, strict=True):
            video = read_frame_folder(folder, **read)
            samples.append(video)
            targets.append(_labels(video.n_frames, ranges, str(folder)))
        yield Subset(name=p.subset, train=Split(samples=train, ids=[d.name for d in train_dirs]),
                     test=Split(samples=samples, targets=targets, ids=[d.name for d in tests]))


class FrameMasks(RendersFrames):
    """ShanghaiTech and Avenue (frame-folder release) with per-video ``.npy`` frame labels."""

    Params = FramesParams
    subset_name = "shanghaitech"

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        root = Path(p.root)
        read = {"stride": p.stride, "max_side": p.max_side}
        train_dirs = _folders(root / "training" / "frames", self.where)
        test_dirs = _folders(root / "testing" / "frames", self.where)
        samples, targets = [], []
        for folder in test_dirs:
            video = read_frame_folder(folder, **read)
            mask_file = root / "testing" / "test_frame_mask" / f"{folder.name}.npy"
            if not mask_file.is_file():
                raise DataError(f"{mask_file}: frame labels of test video {folder.name} are missing")
            labels = np.load(mask_file, allow_pickle=False).reshape(-1)
            if len(labels) != video.n_frames:
                raise DataError(f"{mask_file}: {len(labels)} frame labels but {folder} has {video.n_frames} frames")
            samples.append(video)
            targets.append((labels > 0).astype(np.int8))
        yield Subset(name=self.subset_name,
                     train=Split(samples=[read_frame_folder(d, **read, label=0) for d in train_dirs],
                                 ids=[d.name for d in train_dirs]),
                     test=Split(samples=samples, targets=targets, ids=[d.name for d in test_dirs]))


class Avenue(FrameMasks):
    subset_name = "avenue"
