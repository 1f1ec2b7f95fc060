"""Write synthetic videos in the real benchmarks' layouts, so every loader is tested on files.

Layouts: ``ucsd`` (tif frame folders + ``UCSDped2.m``), ``shanghaitech`` / ``avenue`` (jpg→png
frame folders + ``test_frame_mask/<video>.npy``) and ``files`` (mp4 via PyAV + labels CSV).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np

from omniad.errors import ConfigError
from omniad_video.datasets.params import SyntheticParams
from omniad_video.datasets.synthetic import generate_video
from omniad_video.decode import write_video

LAYOUTS = ("ucsd", "shanghaitech", "files")


def _frames(folder: Path, frames: np.ndarray, suffix: str) -> None:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(frames):
        Image.fromarray(f).save(folder / f"{i + 1:03d}{suffix}")


def _runs(labels: np.ndarray) -> list[tuple[int, int]]:
    t = np.r_[0, labels, 0]
    e = np.flatnonzero(np.diff(t))
    return list(zip(e[::2].tolist(), e[1::2].tolist(), strict=True))


def write_benchmark(root: str | Path, layout: Literal["ucsd", "shanghaitech", "files"],
                    params: SyntheticParams | dict[str, Any] | None = None) -> tuple[Path, list[np.ndarray]]:
    """Write the videos of ``params``; returns the root and the test videos' frame labels, in order."""
    if layout not in LAYOUTS:
        raise ConfigError(f"unknown layout {layout!r}; choose from {LAYOUTS}")
    p = params if isinstance(params, SyntheticParams) else SyntheticParams(**(params or {}))
    rng = np.random.default_rng(p.seed)
    root = Path(root)
    train = [generate_video(rng, n_frames=p.n_frames, size=p.size, n_objects=p.n_objects)[0] for _ in range(p.n_train)]
    kinds = ("none",) * p.n_test_normal + tuple(k for k in p.anomalies for _ in range(p.n_test_per_anomaly))
    test = [generate_video(rng, n_frames=p.n_frames, size=p.size, anomaly=k, n_objects=p.n_objects) for k in kinds]
    if layout == "ucsd":
        base = root / "UCSDped2"
        for i, f in enumerate(train):
            _frames(base / "Train" / f"Train{i + 1:03d}", f, ".tif")
        lines = []
        for i, (f, labels) in enumerate(test):
            _frames(base / "Test" / f"Test{i + 1:03d}", f, ".tif")
            ranges = ", ".join(f"{a + 1}:{b}" for a, b in _runs(labels))
            lines.append(f"TestVideoFile{{end+1}}.gt_frame = [{ranges}];")
        (base / "Test" / "UCSDped2.m").write_text("TestVideoFile = {};\n" + "\n".join(lines) + "\n")
    elif layout == "shanghaitech":
        for i, f in enumerate(train):
            _frames(root / "training" / "frames" / f"01_{i + 1:03d}", f, ".png")
        (root / "testing" / "test_frame_mask").mkdir(parents=True, exist_ok=True)
        for i, (f, labels) in enumerate(test):
            _frames(root / "testing" / "frames" / f"01_{i + 1:04d}", f, ".png")
            np.save(root / "testing" / "test_frame_mask" / f"01_{i + 1:04d}.npy", labels)
    else:
        for i, f in enumerate(train):
            write_video(root / "train" / f"train_{i:03d}.mp4", f)
        rows = ["video,start,end"]
        for i, (f, labels) in enumerate(test):
            write_video(root / "test" / f"test_{i:03d}.mp4", f)
            rows += [f"test_{i:03d},{a},{b - 1}" for a, b in _runs(labels)]
        (root / "labels.csv").write_text("\n".join(rows) + "\n")
    return root, [labels for _, labels in test]
