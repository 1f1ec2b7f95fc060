"""What the point cloud datasets share: pictures, element names, and the folder walking of the loaders.

The real layouts differ in names, not in structure (one folder per category holding train
and test clouds), so finding categories and files, and checking a ground-truth file against
its scan, live here once; every failure names the folder or file and what to do. What a
loader skips or falls back on without failing is tallied per subset (:class:`Tally`) into
``Subset.meta["counts"]``, which the runner shows, with one warning per kind of event.

With ``split="all"`` (what ``omniad fit / score`` open a bare path with) a loader yields one
subset per category holding every cloud, named by its path relative to ``root``, and a single
cloud file is a subset of one cloud (:func:`single_file_subset`).
"""

from __future__ import annotations

import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from omniad.data import Split, Subset, whole_subset
from omniad.dataset import Dataset
from omniad.errors import DataError
from omniad.scores import Scores
from omniad_pointcloud.cloud import PointCloud, as_cloud
from omniad_pointcloud.datasets.params import RootParams
from omniad_pointcloud.io import SUFFIXES, read_cloud, read_labelled_txt

if TYPE_CHECKING:
    from omniad.decision import Decisions

#: how each tallied event is told in its warning: (one, many, what happened); others are only counted
EVENTS = {
    "files_skipped_unknown_format": ("file", "files", "in a format no reader knows, skipped"),
    "unmatched_ground_truth": (
        "ground-truth file", "ground-truth files",
        "not used: named after no test scan (a ground truth takes its scan's name)",
    ),
    "defective_scans_without_ground_truth": (
        "defective test scan", "defective test scans",
        "without ground truth, labelled anomalous in every point (object-level labels: point metrics then only "
        "tell whole scans apart; add a ground-truth file named after each scan to label its points)",
    ),
}


class Tally:
    """Counts of one subset's skipped files and fallbacks, with a few examples of each."""

    def __init__(self, where: str, subset: str) -> None:
        self.where, self.subset = where, subset
        self.counts: Counter[str] = Counter()
        self.examples: defaultdict[str, list[str]] = defaultdict(list)

    def add(self, event: str, example: str) -> None:
        self.counts[event] += 1
        self.examples[event].append(example)

    def read(self, path: Path) -> PointCloud:
        """:func:`read_cloud`, counting a file whose padding was ignored (the reader warned about it)."""
        cloud = read_cloud(path)
        if cloud.meta.get("trailing_bytes"):
            self.counts["files_with_trailing_bytes"] += 1
        return cloud

    def finish(self) -> dict[str, int]:
        """``Subset.meta["counts"]`` (non-zero counts only), warning once per event that :data:`EVENTS` tells."""
        for event, n in sorted(self.counts.items()):
            if event in EVENTS:
                one, many, what = EVENTS[event]
                shown = ", ".join(self.examples[event][:3]) + (", ..." if n > 3 else "")
                warnings.warn(f"{self.where}, subset {self.subset!r}: {n} {one if n == 1 else many} {what}: {shown}",
                              UserWarning, stacklevel=3)
        return {k: int(v) for k, v in sorted(self.counts.items()) if v}


class CloudDataset(Dataset):
    def render_examples(self, subset: Subset, scores: Scores, out_dir: Path, max_examples: int = 4) -> list[Path]:
        from omniad_pointcloud.datasets.render import render_examples

        return render_examples(subset, scores, Path(out_dir), max_examples=max_examples)

    def element_columns(self, split: Split, index: int, n_elements: int) -> dict[str, Sequence[Any]] | None:
        """A cloud's elements are its points: their index in the file and their coordinates as read."""
        points = as_cloud(split.samples[index], f"{self.where}: sample {split.sample_id(index)}").points
        if len(points) != n_elements:  # a detector scoring other elements than points: name them by position
            return {"element": np.arange(n_elements)}
        # float32 coordinates as their shortest decimal (0.3438027, not 0.34380269050598145)
        x, y, z = ([float(str(v)) for v in points[:, k]] for k in range(3))
        return {"point": np.arange(n_elements), "x": x, "y": y, "z": z}

    def render_results(self, split: Split, decisions: Decisions, out_dir: Path, max_items: int = 8) -> list[Path]:
        from omniad_pointcloud.datasets.render import render_results

        return render_results(split, decisions, Path(out_dir), max_items=max_items)


def single_file_subset(path: Path, where: str) -> Subset:
    """One cloud file as a source (``split="all"``): a subset of one unlabelled cloud.

    Named as a folder source is: the subset by the folder (the file's), the sample by the file.
    """
    if path.suffix.lower() not in SUFFIXES:
        raise DataError(f"{where}: {path} is not a point cloud file; give a {'/'.join(SUFFIXES)} file or a folder")
    name = path.resolve().parent.name or path.stem
    tally = Tally(where, name)
    cloud = tally.read(path)
    return whole_subset(name, [cloud], ids=[path.name], meta={"counts": tally.finish()})


def source_categories(p: RootParams, where: str, is_category: Callable[[Path], bool]) -> list[Path]:
    """:func:`categories`, except that with ``split="all"`` a root that is itself one category is that one."""
    root = Path(p.root)
    if p.split == "all" and root.is_dir() and is_category(root):
        return [root]
    return categories(p, where)


def relative(path: Path, root: Path) -> str:
    """How a sample is named with ``split="all"``: its path below the folder the user gave."""
    return path.relative_to(root).as_posix()


def categories(p: RootParams, where: str) -> list[Path]:
    """The category folders under ``p.root`` (all, or those ``p.categories`` names)."""
    root = Path(p.root)
    if not root.is_dir():
        raise DataError(f"{where}: dataset folder {root} does not exist; set root to the extracted dataset")
    found = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if p.categories:
        missing = [c for c in p.categories if not (root / c).is_dir()]
        if missing:
            raise DataError(f"{where}: categories {missing} not found under {root}; found {[d.name for d in found]}")
        return [root / c for c in p.categories]
    if not found:
        raise DataError(f"{where}: {root} holds no category folders")
    return found


def files(folder: Path, suffixes: tuple[str, ...], where: str, tally: Tally | None = None) -> list[Path]:
    """The files of ``folder`` with one of ``suffixes``, sorted; a missing or empty folder is an error.

    Other files are skipped, and counted in ``tally``; hidden files (``.DS_Store``) are never data.
    """
    if not folder.is_dir():
        raise DataError(f"{where}: expected folder {folder} is missing")
    listed = sorted(f for f in folder.iterdir() if f.is_file() and not f.name.startswith("."))
    found = [f for f in listed if f.suffix.lower() in suffixes]
    if tally is not None:
        for f in listed:
            if f.suffix.lower() not in suffixes:
                tally.add("files_skipped_unknown_format", f"{folder.name}/{f.name}")
    if not found:
        raise DataError(f"{where}: {folder} holds no {'/'.join(suffixes)} files")
    return found


def stray_files(folder: Path, stems: set[str], tally: Tally, event: str = "unmatched_ground_truth") -> None:
    """Count the files of ``folder`` named after none of ``stems`` (a missing folder holds none)."""
    if folder.is_dir():
        for f in sorted(folder.iterdir()):
            if f.is_file() and not f.name.startswith(".") and f.stem not in stems:
                tally.add(event, f"{folder.parent.name}/{folder.name}/{f.name}")


def subfolders(folder: Path, where: str) -> list[Path]:
    if not folder.is_dir():
        raise DataError(f"{where}: expected folder {folder} is missing")
    found = sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not found:
        raise DataError(f"{where}: {folder} holds no defect-type folders (e.g. good/, crack/)")
    return found


def labels_for(cloud: PointCloud, gt: Path, *, from_gt: bool = False) -> tuple[PointCloud, np.ndarray]:
    """The labels of an ``x y z label`` file for ``cloud``.

    By default the file's points must be the scan's (same count, same order, 1e-4 apart), so
    a ground truth that belongs to another scan cannot pass unnoticed. ``from_gt`` takes the
    cloud from the file instead, as the official Real3D-AD loader does.
    """
    points, labels = read_labelled_txt(gt)
    if from_gt:
        try:
            return PointCloud(points=points, name=cloud.name, meta=cloud.meta), labels
        except DataError as exc:
            raise DataError(f"{gt}: {exc}") from None
    if len(points) != len(cloud):
        raise DataError(
            f"{gt}: {len(points)} labelled points but the scan {cloud.name} has {len(cloud)}; the ground truth "
            "belongs to another scan (or set cloud_from_gt=true to take the points from the ground truth)"
        )
    if not np.allclose(points, cloud.points, atol=1e-4):
        raise DataError(f"{gt}: labelled points differ from the scan {cloud.name}'s points (same count, other order?)")
    return cloud, labels
