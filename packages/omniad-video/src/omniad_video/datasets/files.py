"""Any folder of video files decoded with PyAV, with anomalous frame ranges from a CSV.

``split="benchmark"``: ``root/train/*.{mp4,avi,...}`` are normal videos; ``root/test/*`` are
scored; the CSV has one row per anomalous event, ``video,start,end`` (frame numbers, 0-based,
``end`` inclusive; the video named by its file stem). Test videos without a row are normal.

``split="all"`` (a bare path given to ``omniad fit / score``): ``root`` is one video file or any
folder of them, labels optional (:func:`omniad_video.datasets.sources.files_source`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from omniad.data import Split, Subset
from omniad.errors import ConfigError, DataError
from omniad_video.datasets.params import FilesParams
from omniad_video.datasets.render import RendersFrames
from omniad_video.decode import VIDEO_SUFFIXES, read_video


def read_ranges(path: Path) -> dict[str, list[tuple[int, int]]]:
    if not path.is_file():
        raise DataError(f"{path}: the labels CSV is missing")
    out: dict[str, list[tuple[int, int]]] = {}
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or not {"video", "start", "end"} <= set(reader.fieldnames):
            raise DataError(f"{path}: needs the columns video,start,end (found {reader.fieldnames})")
        for i, row in enumerate(reader, start=2):
            try:
                a, b = int(row["start"]), int(row["end"])
            except ValueError:
                raise DataError(f"{path}, line {i}: start and end must be frame numbers") from None
            out.setdefault(row["video"], []).append((a, b + 1))
    return out


class VideoFiles(RendersFrames):
    Params = FilesParams

    def _videos(self, folder: Path) -> list[Path]:
        if not folder.is_dir():
            raise DataError(f"{self.where}: expected folder {folder} is missing")
        files = sorted(f for f in folder.iterdir() if f.suffix.lower() in VIDEO_SUFFIXES)
        if not files:
            raise DataError(f"{self.where}: {folder} holds no video files ({', '.join(VIDEO_SUFFIXES)})")
        return files

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        if p.split == "all":
            from omniad_video.datasets.sources import files_source

            yield files_source(Path(p.root), stride=p.stride, fps=p.fps, max_side=p.max_side, labels=p.labels,
                               where=self.where)
            return
        if p.labels is None:
            raise ConfigError(f"{self.where}: split='benchmark' scores test videos against labels; pass labels= (a CSV "
                              "video,start,end), or split='all' to read videos without labels")
        read = {"stride": p.stride, "fps": p.fps, "max_side": p.max_side}
        ranges = read_ranges(Path(p.labels))
        train_files = self._videos(Path(p.root) / "train")
        train = [read_video(f, label=0, **read) for f in train_files]
        tests = self._videos(Path(p.root) / "test")
        unknown = sorted(set(ranges) - {f.stem for f in tests})
        if unknown:
            raise DataError(f"{p.labels}: labels name videos not in {Path(p.root) / 'test'}: {unknown[:5]}")
        samples, targets = [], []
        for f in tests:
            video = read_video(f, **read)
            labels = np.zeros(video.n_frames, np.int8)
            for a, b in ranges.get(f.stem, []):
                if a < 0 or b > video.n_frames or a >= b:
                    raise DataError(f"{p.labels}: event {a}..{b - 1} of {f.name} lies outside its {video.n_frames} frames")
                labels[a:b] = 1
            samples.append(video)
            targets.append(labels)
        yield Subset(name=Path(p.root).name, train=Split(samples=train, ids=[f.stem for f in train_files]),
                     test=Split(samples=samples, targets=targets, ids=[f.stem for f in tests]))
