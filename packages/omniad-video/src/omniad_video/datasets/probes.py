"""How sure each video loader is that it reads a bare path (``DatasetCard.probe``): names only, nothing decoded.

``omniad fit video.frame_knn PATH`` has five loaders that take a folder: the released layouts
(UCSD ``Train/TrainNNN`` + ``Test/UCSDpedN.m``; ShanghaiTech / Avenue ``training/frames``,
``testing/frames`` and ``testing/test_frame_mask``) win where their marks are present; otherwise a
folder of video files is ``video.files``' and a folder of frame images (one video), or of such
folders, is ``video.frames``'. A single video file is ``video.files``'. ShanghaiTech and Avenue
share one layout: the folder's name decides (``avenue`` in it: Avenue), ShanghaiTech otherwise.
Walks are bounded, so a probe stays cheap on a large tree; nothing heavy is imported.
"""

from __future__ import annotations

import os
from pathlib import Path

from omniad_video.suffixes import IMAGE_SUFFIXES, VIDEO_SUFFIXES

#: folders and file names looked at below a path before a probe gives up
_MAX_DIRS, _MAX_FILES = 400, 20_000


def _scan(path: Path) -> tuple[bool, bool]:
    """(a video file somewhere below, a folder of frame images somewhere below), within the walk bounds."""
    videos = frames = False
    n_files = 0
    for n_dirs, (_, dirs, files) in enumerate(os.walk(path), start=1):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        n_files += len(files)
        suffixes = {os.path.splitext(f)[1].lower() for f in files if not f.startswith(".")}
        videos = videos or bool(suffixes & set(VIDEO_SUFFIXES))
        frames = frames or bool(suffixes & set(IMAGE_SUFFIXES))
        if (videos and frames) or n_dirs >= _MAX_DIRS or n_files >= _MAX_FILES:
            break
    return videos, frames


def _holds_frames(path: Path) -> bool:
    try:
        return any(os.path.splitext(f)[1].lower() in IMAGE_SUFFIXES for f in os.listdir(path) if not f.startswith("."))
    except OSError:
        return False


def files(path: Path) -> float:
    """1 for a video file; 0.6 for a folder with video files below it."""
    path = Path(path)
    if path.is_file():
        return 1.0 if path.suffix.lower() in VIDEO_SUFFIXES else 0.0
    return 0.6 if path.is_dir() and _scan(path)[0] else 0.0


def frames(path: Path) -> float:
    """1 for a folder of frame images; 0.5 for a folder with frame folders below it and no video files."""
    path = Path(path)
    if not path.is_dir():
        return 0.0
    if _holds_frames(path):
        return 1.0
    videos, found = _scan(path)
    return 0.5 if found and not videos else 0.3 if found else 0.0


def ucsd(path: Path) -> float:
    """0.9 for a UCSD folder: ``Train`` and ``Test`` with ``TrainNNN`` folders or a ``UCSDpedN.m`` file (or its
    parent), or the frame-folder release (``training/frames`` with ``UCSDpedN.m`` / ``pedN.mat`` beside it)."""
    path = Path(path)
    for base in (path, path / "UCSDped1", path / "UCSDped2"):
        if not ((base / "Train").is_dir() and (base / "Test").is_dir()):
            continue
        marks = any((base / "Test" / f"UCSDped{k}.m").is_file() for k in (1, 2))
        marks = marks or any(d.startswith("Train") for d in os.listdir(base / "Train"))
        if marks:
            return 0.9
    # the JPEG frame-folder release: training/frames, testing/frames and UCSDpedN.m / pedN.mat beside them
    frames = (path / "training" / "frames").is_dir() or (path / "testing" / "frames").is_dir()
    if frames and any((path / f).is_file() for k in (1, 2) for f in (f"UCSDped{k}.m", f"ped{k}.mat")):
        return 0.9
    return 0.0


def _frame_masks(path: Path) -> bool:
    return ((path / "training" / "frames").is_dir() or (path / "testing" / "frames").is_dir()) and (
        path / "testing" / "test_frame_mask").is_dir()


def shanghaitech(path: Path) -> float:
    path = Path(path)
    if not _frame_masks(path):
        return 0.0
    return 0.7 if "avenue" in path.resolve().name.lower() else 0.8


def avenue(path: Path) -> float:
    path = Path(path)
    if not _frame_masks(path):
        return 0.0
    return 0.9 if "avenue" in path.resolve().name.lower() else 0.7
