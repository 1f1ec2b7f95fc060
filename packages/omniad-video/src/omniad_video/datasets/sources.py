"""A user's own videos as one source: a video file, a folder of videos, a frame folder or a folder of them.

What ``omniad fit / score / detect`` open a bare path with (the loaders' ``split="all"``, and
``video.frames`` always): one subset holding every video found, fitted on those without labelled
anomalous frames (:func:`omniad.data.whole_subset`). Videos are named by their path below the
folder the user gave (``cam1/monday.mp4``, ``training/frames/01``), or by their own name when the
path is the video itself. Labels are optional: an events CSV ``video,start,end`` (0-based frames,
``end`` inclusive), passed as ``labels`` or found as ``labels.csv`` in the folder, labels every
video it can name (the others are normal); rows naming videos that are not in this source are
counted and skipped, so one CSV of a whole dataset labels any part of it. Whatever is skipped
(files that are not frames or videos, pixel-mask folders) is counted in ``meta["counts"]`` and
said once in a warning.
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from omniad.data import Split, Subset, whole_subset
from omniad.errors import DataError
from omniad_video.decode import IMAGE_SUFFIXES, VIDEO_SUFFIXES, natural_key, read_frame_folder, read_video
from omniad_video.samples import FrameVideo

#: how each count is said in its warning: one, several
EVENTS = {
    "non_frame_files_skipped": ("file in a frame folder that is not a frame image",
                                "files in frame folders that are not frame images"),
    "non_video_files_skipped": ("file that is not a video", "files that are not videos"),
    "mask_folders_skipped": ("pixel-mask folder (*_gt) beside the frame folders", "pixel-mask folders (*_gt) beside "
                             "the frame folders"),
    "label_rows_for_absent_videos": ("label row naming a video not in this source",
                                     "label rows naming videos not in this source"),
}
LABELS_FILE = "labels.csv"


class Counts(Counter[str]):
    """What a source skipped, for ``Subset.meta["counts"]``; :meth:`finish` warns once per kind."""

    def finish(self, where: str) -> dict[str, int]:
        for key, n in self.items():
            if n and key in EVENTS:
                warnings.warn(f"{where}: {n} {EVENTS[key][n > 1]}, skipped", stacklevel=3)
        return {k: int(v) for k, v in self.items() if v}


def _visible(name: str) -> bool:
    return not name.startswith(".")


def _walk(root: Path) -> list[tuple[Path, list[str], list[str]]]:
    """``os.walk`` in natural name order, hidden entries left out."""
    out = []
    for top, dirs, files in os.walk(root):
        dirs[:] = sorted((d for d in dirs if _visible(d)), key=natural_key)
        out.append((Path(top), dirs, sorted((f for f in files if _visible(f)), key=natural_key)))
    return out


def has_frames(folder: Path) -> bool:
    return any(Path(f).suffix.lower() in IMAGE_SUFFIXES for f in os.listdir(folder) if _visible(f))


def frame_folders(root: Path, counts: Counts) -> list[Path]:
    """``root`` itself when it holds frame images, else every folder below it that does (not looked into further)."""
    if has_frames(root):
        return [root]
    found = []
    for top, dirs, files in os.walk(root):
        dirs[:] = sorted((d for d in dirs if _visible(d)), key=natural_key)
        if Path(top) == root:
            continue
        if Path(top).name.endswith("_gt"):  # UCSD's pixel masks sit beside the frame folders
            counts["mask_folders_skipped"] += 1
            dirs[:] = []
            continue
        if any(Path(f).suffix.lower() in IMAGE_SUFFIXES for f in files if _visible(f)):
            found.append(Path(top))
            dirs[:] = []
    return sorted(found, key=lambda d: natural_key(d.relative_to(root).as_posix()))


def video_files(root: Path, counts: Counts, ignore: Path | None = None) -> list[Path]:
    """Every video file in ``root`` and its subfolders, in natural order of their paths."""
    found = []
    for top, _, files in _walk(root):
        for name in files:
            path = top / name
            if path.suffix.lower() in VIDEO_SUFFIXES:
                found.append(path)
            elif ignore is None or path != ignore:
                counts["non_video_files_skipped"] += 1
    return sorted(found, key=lambda f: natural_key(f.relative_to(root).as_posix()))


def labels_file(root: Path, labels: Path | None) -> Path | None:
    """The events CSV to use: the one given, else ``labels.csv`` in the folder, else none (unlabelled)."""
    if labels is not None:
        return Path(labels)
    found = root / LABELS_FILE if root.is_dir() else None
    return found if found is not None and found.is_file() else None


def event_targets(path: Path, videos: Sequence[FrameVideo], names: Sequence[set[str]], counts: Counts) -> list[np.ndarray]:
    """Frame labels of every video from the events CSV ``path``; ``names[i]``: how a row may name video ``i``."""
    from omniad_video.datasets.files import read_ranges

    ranges = read_ranges(path)
    owner: dict[str, list[int]] = {}
    for i, aliases in enumerate(names):
        for alias in aliases:
            owner.setdefault(alias, []).append(i)
    targets = [np.zeros(int(v.n_frames), np.int8) for v in videos]
    for key, rows in ranges.items():
        hits = sorted(set(owner.get(key, [])))
        if not hits:
            counts["label_rows_for_absent_videos"] += len(rows)
            continue
        if len(hits) > 1:
            raise DataError(f"{path}: video {key!r} names {len(hits)} videos of this source; name it by its path below "
                            "the folder (e.g. test/clip.mp4)")
        n = int(videos[hits[0]].n_frames)
        for a, b in rows:
            if a < 0 or b > n or a >= b:
                raise DataError(f"{path}: event {a}..{b - 1} of {key} lies outside its {n} frames (0..{n - 1})")
            targets[hits[0]][a:b] = 1
    return targets


def _aliases(relative: str) -> set[str]:
    p = Path(relative)
    return {relative, p.with_suffix("").as_posix(), p.name, p.stem}


def whole(name: str, videos: list[FrameVideo], ids: list[str], targets: list[np.ndarray] | None, counts: Counts,
          where: str) -> Subset:
    """:func:`omniad.data.whole_subset`, except that a source whose every video has labelled anomalous frames
    (one test video, say) is still read: scoring it is what it is for, so its fit split holds them all, counted
    and said in a warning (fitting on it would fit on anomalies)."""
    if targets is not None and targets and all(np.any(t) for t in targets):
        counts["anomalous_videos_in_fit_split"] = len(videos)
        warnings.warn(f"{where}: every video of {name!r} has labelled anomalous frames, so its fit split holds "
                      "them all; score it, but fit on normal videos", stacklevel=3)
        meta = {"counts": counts.finish(where)}
        test = Split(samples=videos, targets=targets, ids=ids, meta=dict(meta)).with_labels_from_targets()
        return Subset(name=name, train=Split(samples=videos, ids=ids, meta=dict(meta)), test=test, meta=dict(meta))
    return whole_subset(name, videos, ids=ids, targets=targets, meta={"counts": counts.finish(where)})


def _subset(name: str, root: Path, videos: list[FrameVideo], ids: list[str], labels: Path | None,
            counts: Counts, where: str) -> Subset:
    path = labels_file(root, labels)
    targets = None if path is None else event_targets(path, videos, [_aliases(i) for i in ids], counts)
    return whole(name, videos, ids, targets, counts, where)


def frames_source(root: Path, *, stride: int, max_side: int | None, labels: Path | None, fps: float | None,
                  where: str) -> Subset:
    """A frame folder (one video) or a folder of frame folders, as one subset of every video."""
    root = Path(root)
    if not root.exists():
        raise DataError(f"{where}: {root} does not exist; give a folder of frame images or a folder of such folders")
    if not root.is_dir():
        raise DataError(f"{where}: {root} is a file; give a folder of frame images (one video) or a folder of such "
                        "folders; a video file is read by video.files")
    counts = Counts()
    folders = frame_folders(root, counts)
    if not folders:
        raise DataError(f"{where}: {root} holds no frame images ({', '.join(IMAGE_SUFFIXES)}), not even in "
                        "subfolders; a folder of video files is read by video.files (pass --loader video.files)")
    videos = []
    for folder in folders:
        video = read_frame_folder(folder, stride=stride, max_side=max_side, fps=fps)
        counts["non_frame_files_skipped"] += int(video.meta.get("skipped_files", 0))
        videos.append(video)
    if folders == [root]:
        name, ids = root.resolve().parent.name or root.name, [root.resolve().name]
    else:
        name, ids = root.resolve().name, [f.relative_to(root).as_posix() for f in folders]
    return _subset(name, root, videos, ids, labels, counts, where)


def files_source(root: Path, *, stride: int, fps: float | None, max_side: int | None, labels: Path | None,
                 where: str) -> Subset:
    """A video file or a folder of video files (subfolders searched), as one subset of every video."""
    root = Path(root)
    counts = Counts()
    if root.is_file():
        if root.suffix.lower() not in VIDEO_SUFFIXES:
            raise DataError(f"{where}: {root} is not a video file ({', '.join(VIDEO_SUFFIXES)}); give a video file, a "
                            "folder of them, or a folder of frame images (read by video.frames)")
        files, name, ids = [root], root.resolve().parent.name or root.stem, [root.name]
    elif root.is_dir():
        used = labels_file(root, labels)
        files = video_files(root, counts, ignore=used)
        if not files:
            raise DataError(f"{where}: {root} holds no video files ({', '.join(VIDEO_SUFFIXES)}), not even in "
                            "subfolders; a folder of frame images is read by video.frames (pass --loader video.frames)")
        name, ids = root.resolve().name, [f.relative_to(root).as_posix() for f in files]
    else:
        raise DataError(f"{where}: {root} does not exist; give a video file or a folder of them")
    videos = [read_video(f, stride=stride, fps=fps, max_side=max_side) for f in files]
    return _subset(name, root, videos, ids, labels, counts, where)
