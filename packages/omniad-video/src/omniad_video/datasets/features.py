"""Pre-extracted feature datasets: UCF-Crime C3D, RTFM-style npy, and a synthetic set.

* UCF-Crime (Sultani et al., 2018): ``features/<video>.txt``, 32 segments x 4096 C3D values,
  and ``annotations/<video>_C.mat`` with ``Annotation_file.Anno`` rows ``[start end]`` of the
  anomalous event(s) (``[-1 -1]`` for normal videos). The files hold no frame count;
  Sultani's evaluation reads it from the video, so frame targets need a ``frame_counts`` file
  ("video n_frames" lines). Without one, ``level="video"`` gives video-level labels only
  (frame metrics then fail at plan time). Nothing is guessed.
* RTFM (Tian et al., 2021): ``<video>.npy`` of ``T x crops x D`` (ten-crop I3D), list files
  with weak video labels for training, per-frame 0/1 ``<video>.npy`` labels of length
  ``frames_per_segment * T`` for testing.
* Synthetic: Gaussian segment features; anomalous videos have a run of segments drawn around
  a shifted mean with a larger norm. Weak labels on train, frame targets on test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from omniad.data import Split, Subset
from omniad.dataset import Dataset
from omniad.errors import ConfigError, DataError
from omniad.npyfiles import load_npy
from omniad.shared import shared_data_root
from omniad_video.datasets.feature_params import RTFMParams, SyntheticFeaturesParams, UCFCrimeParams
from omniad_video.samples import SegmentFeatures, segment_bounds

SEGMENTS = 32
C3D_DIM = 4096


def read_c3d_txt(path: Path) -> np.ndarray:
    try:
        arr = np.loadtxt(path, dtype=np.float32, ndmin=2)
    except (ValueError, OSError) as exc:
        raise DataError(f"{path}: not a whitespace-separated feature table ({exc})") from None
    if arr.shape != (SEGMENTS, C3D_DIM):
        raise DataError(
            f"{path}: expected {SEGMENTS} segments x {C3D_DIM} C3D features, got {arr.shape[0]} x {arr.shape[1]}"
        )
    return arr


def read_annotation(path: Path) -> list[tuple[int, int]]:
    """Anomalous frame ranges ``[(start, stop), ...]`` (0-based, stop exclusive) from a UCF-Crime ``.mat``."""
    from scipy.io import loadmat

    if not path.is_file():
        raise DataError(f"{path}: the temporal annotation is missing")
    try:
        m = loadmat(path)
        anno = np.asarray(m["Annotation_file"]["Anno"][0, 0]).reshape(-1, 2).astype(int)
    except (KeyError, ValueError, IndexError, TypeError, NotImplementedError) as exc:
        raise DataError(f"{path}: not a UCF-Crime annotation (no Annotation_file.Anno: {exc})") from None
    return [(int(a) - 1, int(b)) for a, b in anno if a >= 0]


def read_frame_counts(path: Path) -> dict[str, int]:
    if not path.is_file():
        raise DataError(f"{path}: the frame-count file is missing")
    out = {}
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        parts = line.replace(",", " ").split()
        if not parts or parts[0].startswith("#"):
            continue
        try:
            out[Path(parts[0]).stem] = int(parts[1])
        except (IndexError, ValueError):
            raise DataError(f"{path}, line {i}: expected 'video n_frames', got {line!r}") from None
    return out


def frame_labels(n_frames: int, ranges: list[tuple[int, int]], where: str) -> np.ndarray:
    labels = np.zeros(n_frames, np.int8)
    for a, b in ranges:
        if a < 0 or b > n_frames or a >= b:
            raise DataError(
                f"{where}: annotated frames {a + 1}..{b} do not fit the video's {n_frames} frames"
            )
        labels[a:b] = 1
    return labels


class UCFCrime(Dataset):
    Params = UCFCrimeParams

    def _videos(self) -> tuple[list[SegmentFeatures], list[np.ndarray] | None]:
        p = self.params
        root = Path(p.root) if p.root is not None else shared_data_root() / "data" / "ucf_crime_c3d_sample"
        feat_dir = root / "features"
        if not feat_dir.is_dir():
            raise DataError(
                f"{self.where}: {feat_dir} does not exist; set root to a folder with features/ and annotations/"
            )
        files = sorted(feat_dir.glob("*.txt"))
        if not files:
            raise DataError(f"{self.where}: {feat_dir} holds no <video>.txt feature files")
        if p.level == "frame" and p.frame_counts is None:
            raise DataError(
                f"{self.where}: the UCF-Crime feature files hold no frame counts, so frame targets cannot be built; "
                "give frame_counts ('video n_frames' lines, read from the videos) or set level='video'"
            )
        counts = read_frame_counts(Path(p.frame_counts)) if p.frame_counts is not None else {}
        videos, targets = [], []
        for f in files:
            ranges = read_annotation(root / "annotations" / f"{f.stem}_C.mat")
            label = int(bool(ranges))
            if p.level == "frame":
                if f.stem not in counts:
                    raise DataError(f"{p.frame_counts}: no frame count for video {f.stem}")
                n = counts[f.stem]
                targets.append(frame_labels(n, ranges, f"{root / 'annotations' / (f.stem + '_C.mat')}"))
            else:
                n = max([SEGMENTS, *(b for _, b in ranges)])  # only the video label is used at this level
            videos.append(SegmentFeatures(features=read_c3d_txt(f), n_frames=n, name=f.stem, label=label))
        return videos, (targets if p.level == "frame" else None)

    def iter_subsets(self) -> Iterator[Subset]:
        videos, targets = self._videos()
        labels = np.array([v.label for v in videos])

        def split(idx: list[int]) -> Split:
            return Split(
                samples=[videos[i] for i in idx],
                labels=labels[idx],
                targets=None if targets is None else [targets[i] for i in idx],
                ids=[videos[i].name for i in idx],
            )

        p = self.params
        if p.protocol == "lists":
            if p.train_list is None or p.test_list is None:
                raise ConfigError(f"{self.where}: protocol='lists' needs train_list and test_list")
            names = {v.name: i for i, v in enumerate(videos)}
            idx = []
            for lst in (p.train_list, p.test_list):
                wanted = [Path(x.split()[0]).stem for x in Path(lst).read_text().splitlines() if x.strip()]
                missing = [w for w in wanted if w not in names]
                if missing:
                    raise DataError(f"{lst}: videos without features: {missing[:5]}")
                idx.append([names[w] for w in wanted])
            yield Subset(
                name="ucf_crime",
                train=Split(samples=[videos[i] for i in idx[0]], ids=[videos[i].name for i in idx[0]]),
                test=split(idx[1]),
            )
            return
        if p.level == "video":
            raise ConfigError(
                f"{self.where}: level='video' scores whole videos, and a single held-out video has no AUROC; "
                "use protocol='lists' with train_list and test_list"
            )
        for i, v in enumerate(videos):  # leave one out: a pipeline check on the 10-video sample
            if targets is not None and targets[i].sum() in (0, len(targets[i])):
                continue  # a normal video alone has no anomalous frame, so no frame metric
            train = [j for j in range(len(videos)) if j != i]
            yield Subset(
                name=v.name,
                train=Split(samples=[videos[j] for j in train], ids=[videos[j].name for j in train]),
                test=split([i]),
            )


class RTFMFeatures(Dataset):
    Params = RTFMParams

    def _read(self, name: str, label: int | None) -> SegmentFeatures:
        path = Path(self.params.root) / f"{name}.npy"
        if not path.is_file():
            raise DataError(f"{path}: feature file of video {name} is missing")
        arr = load_npy(path, what=f"features of video {name}", kinds="iuf")
        if arr.ndim not in (2, 3):
            raise DataError(f"{path}: expected T x crops x D (or T x D) features, got shape {arr.shape}")
        return SegmentFeatures(
            features=arr, n_frames=self.params.frames_per_segment * arr.shape[0], name=name, label=label
        )

    def _list(self, path: Path, weak: bool) -> list[tuple[str, int | None]]:
        if not Path(path).is_file():
            raise DataError(f"{path}: the list file is missing")
        out = []
        for i, line in enumerate(Path(path).read_text().splitlines(), start=1):
            parts = line.replace(",", " ").split()
            if not parts:
                continue
            if weak and (len(parts) < 2 or parts[1] not in ("0", "1")):
                raise DataError(f"{path}, line {i}: training lines need a 0/1 video label after the name")
            out.append((Path(parts[0]).stem, int(parts[1]) if weak else None))
        return out

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        train = [self._read(n, lab) for n, lab in self._list(p.train_list, weak=True)]
        test, targets = [], []
        for name, _ in self._list(p.test_list, weak=False):
            video = self._read(name, None)
            gt = Path(p.labels) / f"{name}.npy"
            if not gt.is_file():
                raise DataError(f"{gt}: frame labels of test video {name} are missing")
            labels = load_npy(gt, what=f"frame labels of test video {name}", kinds="biuf").reshape(-1)
            if len(labels) != video.n_frames:
                raise DataError(
                    f"{gt}: {len(labels)} frame labels but {name} has {video.n_segments} segments x "
                    f"{p.frames_per_segment} = {video.n_frames} frames"
                )
            test.append(video)
            targets.append((labels > 0).astype(np.int8))
        yield Subset(
            name="rtfm",
            train=Split(samples=train, ids=[v.name for v in train]),
            test=Split(samples=test, targets=targets, ids=[v.name for v in test]),
        )


def synthetic_video(
    rng: np.random.Generator, p: SyntheticFeaturesParams, anomalous: bool, centre: np.ndarray, name: str
) -> tuple[SegmentFeatures, np.ndarray]:
    x = rng.normal(size=(p.n_segments, p.dim)).astype(np.float32)
    seg = np.zeros(p.n_segments, np.int8)
    if anomalous:
        length = int(rng.integers(2, max(3, p.n_segments // 4)))
        start = int(rng.integers(0, p.n_segments - length))
        seg[start : start + length] = 1
        x[seg == 1] += p.shift * centre
    n_frames = p.n_segments * p.frames_per_segment
    bounds = segment_bounds(p.n_segments, n_frames)
    frames = np.repeat(seg, np.diff(bounds)).astype(np.int8)
    return SegmentFeatures(features=x, n_frames=n_frames, name=name, label=int(anomalous)), frames


class SyntheticFeatures(Dataset):
    Params = SyntheticFeaturesParams

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        rng = np.random.default_rng(p.seed)
        centre = rng.normal(size=p.dim)
        centre = (centre / np.linalg.norm(centre) * np.sqrt(p.dim) / 2).astype(np.float32)
        train = [
            synthetic_video(rng, p, False, centre, f"train/normal_{i:03d}")[0]
            for i in range(p.n_train_normal)
        ]
        train += [
            synthetic_video(rng, p, True, centre, f"train/anomalous_{i:03d}")[0]
            for i in range(p.n_train_anomalous)
        ]
        test, targets = [], []
        for i in range(p.n_test_normal + p.n_test_anomalous):
            v, t = synthetic_video(rng, p, i >= p.n_test_normal, centre, f"test/{i:03d}")
            test.append(v)
            targets.append(t)
        yield Subset(
            name="synthetic_features",
            train=Split(samples=train, ids=[v.name for v in train]),
            test=Split(
                samples=test,
                targets=targets,
                labels=np.array([v.label for v in test]),
                ids=[v.name for v in test],
            ),
        )
