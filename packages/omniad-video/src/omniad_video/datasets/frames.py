"""Frame-folder benchmarks: UCSD Ped1/Ped2, ShanghaiTech and CUHK Avenue (frame-folder release).

Layouts (written by ``generator.write_benchmark`` for the tests; see docs/datasets.md):

* UCSD, original release: ``UCSDped2/Train/TrainNNN/*.tif``, ``UCSDped2/Test/TestNNN/*.tif`` and
  the frame ranges of the anomalies in ``UCSDped2/Test/UCSDped2.m``
  (``TestVideoFile{end+1}.gt_frame = [61:180];``, 1-based inclusive, one line per test video in
  order; ``TestNNN_gt`` pixel-mask folders are not needed for frame-level scores and are skipped).
* UCSD, JPEG frame-folder release (what future-frame prediction, MNAD and HF2-VAD read):
  ``training/frames/NN/NNN.jpg``, ``testing/frames/NN/NNN.jpg`` (0-based file names) and the
  ground truth beside them as ``UCSDped2.m`` or as ``ped2.mat`` (MATLAB cell ``gt``, one
  ``[start; end]`` column per range, 1-based inclusive); ``.m`` is preferred when both are there.
* ShanghaiTech / Avenue: ``training/frames/<video>/NNN.jpg``, ``testing/frames/<video>/NNN.jpg``
  and per-video frame labels ``testing/test_frame_mask/<video>.npy`` (0/1 per frame).

With ``split="all"`` (a bare path given to ``omniad fit / score``) each yields one subset of every
video, training and test (named ``Train/Train001``, ``testing/01_0014``), labelled where the
ground truth is present (no ``.m`` file / no ``test_frame_mask`` folder: unlabelled, said in a
warning); a path that is not in the layout at all (one of its frame folders, say) is read as
plain frame folders, as ``video.frames`` reads it. ``video.frames`` (:class:`FrameFolders`)
reads any frame folder or folder of frame folders (:mod:`omniad_video.datasets.sources`).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

from omniad.data import Split, Subset
from omniad.errors import DataError
from omniad.npyfiles import load_npy
from omniad_video.datasets.params import FrameFoldersParams, FramesParams, UCSDParams
from omniad_video.datasets.render import RendersFrames
from omniad_video.datasets.sources import Counts, frames_source, whole
from omniad_video.decode import read_frame_folder
from omniad_video.samples import FrameVideo

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


def parse_ucsd_mat(path: Path) -> list[list[tuple[int, int]]]:
    """The same ranges from the ``pedN.mat`` file of the frame-folder release (``gt``: 1 x videos cell)."""
    from scipy.io import loadmat  # plain MATLAB arrays: nothing in a .mat file is executed

    try:
        cells = loadmat(path)["gt"]
    except (OSError, ValueError, KeyError, NotImplementedError, TypeError) as exc:
        raise DataError(
            f"{path}: cannot read the ground truth ({type(exc).__name__}: {exc}); expected a MATLAB "
            "file with a 1 x N cell 'gt' of [start; end] frame ranges"
        ) from None
    videos = []
    for i, cell in enumerate(np.asarray(cells, dtype=object).reshape(-1)):
        arr = np.asarray(cell).astype(np.int64)  # stored as uint8: no arithmetic before the cast
        if arr.ndim != 2 or arr.shape[0] != 2:
            raise DataError(
                f"{path}: gt{{{i + 1}}} has shape {arr.shape}; expected [start; end] rows (2 x ranges)"
            )
        videos.append([(int(a) - 1, int(b)) for a, b in arr.T])
    if not videos:
        raise DataError(f"{path}: the 'gt' cell is empty")
    return videos


def _labels(n_frames: int, ranges: list[tuple[int, int]], where: str) -> np.ndarray:
    labels = np.zeros(n_frames, np.int8)
    for a, b in ranges:
        if a < 0 or b > n_frames or a >= b:
            raise DataError(
                f"{where}: anomalous frames {a + 1}..{b} lie outside the video's {n_frames} frames"
            )
        labels[a:b] = 1
    return labels


def _folders(root: Path, where: str) -> list[Path]:
    if not root.is_dir():
        raise DataError(f"{where}: expected folder {root} is missing")
    found = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.endswith("_gt"))
    if not found:
        raise DataError(f"{where}: {root} holds no video folders")
    return found


class UCSDLayout(NamedTuple):
    train: str  # folder names below the base, as ids are written
    test: str
    truth: Path  # the .m (or .mat) ground-truth file, which may be missing


def ucsd_layout(base: Path, name: str) -> UCSDLayout:
    """The original TIFF release (``Train/``, ``Test/``) or the JPEG frame-folder one (``training/frames``)."""
    if (base / "training" / "frames").is_dir() or (base / "testing" / "frames").is_dir():
        number = name[-1]
        truth = next(
            (
                f
                for f in (base / f"{name}.m", base / "testing" / f"{name}.m", base / f"ped{number}.mat")
                if f.is_file()
            ),
            base / f"{name}.m",
        )
        return UCSDLayout("training/frames", "testing/frames", truth)
    return UCSDLayout("Train", "Test", base / "Test" / f"{name}.m")


def read_ucsd_truth(path: Path) -> list[list[tuple[int, int]]]:
    return parse_ucsd_mat(path) if path.suffix == ".mat" else parse_ucsd_m(path)


class UCSD(RendersFrames):
    Params = UCSDParams

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        name = "UCSDped1" if p.subset == "ped1" else "UCSDped2"
        base = Path(p.root) / name if (Path(p.root) / name).is_dir() else Path(p.root)
        read = {"stride": p.stride, "max_side": p.max_side}
        if p.split == "all":
            yield self._everything(base, name, read)
            return
        layout = ucsd_layout(base, name)
        train_dirs = _folders(base / layout.train, self.where)
        train = [read_frame_folder(d, **read, label=0) for d in train_dirs]
        tests = _folders(base / layout.test, self.where)
        gt = read_ucsd_truth(layout.truth)
        if len(gt) != len(tests):
            raise DataError(f"{layout.truth}: {len(gt)} ground-truth entries for {len(tests)} test videos")
        samples, targets = [], []
        for folder, ranges in zip(tests, gt, strict=True):
            video = read_frame_folder(folder, **read)
            samples.append(video)
            targets.append(_labels(video.n_frames, ranges, str(folder)))
        yield Subset(
            name=p.subset,
            train=Split(samples=train, ids=[d.name for d in train_dirs]),
            test=Split(samples=samples, targets=targets, ids=[d.name for d in tests]),
        )

    def _everything(self, base: Path, name: str, read: dict) -> Subset:
        """Every Train and Test video; frame labels from the ``.m`` file when it is there."""
        p = self.params
        layout = ucsd_layout(base, name)
        parts = [d for d in (layout.train, layout.test) if (base / d).is_dir()]
        if not parts:
            return _plain(self, "a UCSD folder (Train/, Test/ or training/frames, testing/frames)")
        folders = [(d, f) for d in parts for f in _folders(base / d, self.where)]
        videos = [read_frame_folder(f, **read) for _, f in folders]
        ids = [f"{d.split('/')[0]}/{f.name}" for d, f in folders]
        m = layout.truth
        targets = None
        if m.is_file():
            tests = [i for i, (d, _) in enumerate(folders) if d == layout.test]
            gt = read_ucsd_truth(m)
            if len(gt) != len(tests):
                raise DataError(f"{m}: {len(gt)} ground-truth entries for {len(tests)} test videos")
            targets = [np.zeros(v.n_frames, np.int8) for v in videos]
            for i, ranges in zip(tests, gt, strict=True):
                targets[i] = _labels(videos[i].n_frames, ranges, str(folders[i][1]))
        else:
            warnings.warn(
                f"{self.where}: {m} is missing, so the videos are unlabelled (metrics skipped)", stacklevel=2
            )
        return whole(p.subset, videos, ids, targets, Counts(), self.where)


class FrameMasks(RendersFrames):
    """ShanghaiTech and Avenue (frame-folder release) with per-video ``.npy`` frame labels."""

    Params = FramesParams
    subset_name = "shanghaitech"

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        root = Path(p.root)
        read = {"stride": p.stride, "max_side": p.max_side}
        if p.split == "all":
            yield self._everything(root, read)
            return
        train_dirs = _folders(root / "training" / "frames", self.where)
        test_dirs = _folders(root / "testing" / "frames", self.where)
        samples, targets = [], []
        for folder in test_dirs:
            video = read_frame_folder(folder, **read)
            samples.append(video)
            targets.append(_mask(root / "testing" / "test_frame_mask", folder, video))
        yield Subset(
            name=self.subset_name,
            train=Split(
                samples=[read_frame_folder(d, **read, label=0) for d in train_dirs],
                ids=[d.name for d in train_dirs],
            ),
            test=Split(samples=samples, targets=targets, ids=[d.name for d in test_dirs]),
        )

    def _everything(self, root: Path, read: dict) -> Subset:
        """Every training and test video; frame labels from ``test_frame_mask`` when that folder is there."""
        parts = [d for d in ("training", "testing") if (root / d / "frames").is_dir()]
        if not parts:
            return _plain(self, "a training/frames, testing/frames folder")
        folders = [(d, f) for d in parts for f in _folders(root / d / "frames", self.where)]
        videos: list[FrameVideo] = [read_frame_folder(f, **read) for _, f in folders]
        masks = root / "testing" / "test_frame_mask"
        targets = None
        if masks.is_dir():
            targets = [
                np.zeros(v.n_frames, np.int8) if d == "training" else _mask(masks, f, v)
                for (d, f), v in zip(folders, videos, strict=True)
            ]
        else:
            warnings.warn(
                f"{self.where}: {masks} is missing, so the videos are unlabelled (metrics skipped)",
                stacklevel=2,
            )
        return whole(
            self.subset_name, videos, [f"{d}/{f.name}" for d, f in folders], targets, Counts(), self.where
        )


def _mask(masks: Path, folder: Path, video: FrameVideo) -> np.ndarray:
    mask_file = masks / f"{folder.name}.npy"
    if not mask_file.is_file():
        raise DataError(f"{mask_file}: frame labels of test video {folder.name} are missing")
    labels = load_npy(mask_file, what=f"frame labels of test video {folder.name}", kinds="biuf").reshape(-1)
    if len(labels) != video.n_frames:
        raise DataError(f"{mask_file}: {len(labels)} frame labels but {folder} has {video.n_frames} frames")
    return (labels > 0).astype(np.int8)


def _plain(dataset: RendersFrames, layout: str) -> Subset:
    """A path outside the loader's layout (e.g. one of its frame folders), read as plain frame folders."""
    p = dataset.params
    warnings.warn(
        f"{dataset.where}: {p.root} is not {layout}; read as plain frame folders (as video.frames reads "
        "them)",
        stacklevel=3,
    )
    return frames_source(
        Path(p.root), stride=p.stride, max_side=p.max_side, labels=None, fps=None, where=dataset.where
    )


class Avenue(FrameMasks):
    subset_name = "avenue"


class FrameFolders(RendersFrames):
    """``video.frames``: a folder of frame images (one video) or a folder of frame folders, labels optional."""

    Params = FrameFoldersParams

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        yield frames_source(
            Path(p.root),
            stride=p.stride,
            max_side=p.max_side,
            labels=p.labels,
            fps=p.frame_rate,
            where=self.where,
        )
