"""Any folder of clouds: ``<category>/train/good/*``, ``test/<kind>/*``, ``ground_truth/<kind>/<stem>.{txt,npy}``.

The MVTec-style naming for free clouds in any format :func:`omniad_pointcloud.io.read_cloud`
reads. A per-point ground truth holds one 0/1 label per point, in the cloud's order.

Ground truth is matched to scans by name, so a misnamed file would leave its scan
unlabelled; every ground-truth file must therefore belong to a scan (an error names the
file and the scans still without one), and a scan may have only one. A defective scan with
no ground truth at all counts as anomalous in every point (object-level data): allowed, but
counted in ``Subset.meta["counts"]["defective_scans_without_ground_truth"]`` and warned
about, since point metrics then only tell whole scans apart. A normal scan's ground truth,
when given, must be all 0.

With ``split="all"`` (``omniad fit / score`` on a path) the same folder gives one subset per
category holding every cloud, train/good ones included; ``root`` may also be one category
folder, one cloud file, or any other folder of clouds (searched with its subfolders; its
clouds are unlabelled). Samples are then named by their path below ``root``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from omniad.data import Split, Subset, whole_subset
from omniad.errors import DataError
from omniad_pointcloud.cloud import PointCloud
from omniad_pointcloud.datasets.base import (
    CloudDataset,
    Tally,
    files,
    relative,
    single_file_subset,
    source_categories,
    subfolders,
)
from omniad_pointcloud.datasets.params import FolderParams
from omniad_pointcloud.io import SUFFIXES, read_labels

_GT = (".txt", ".npy")


def is_category(folder: Path) -> bool:
    """A category folder of this layout: it has ``train/good/``, or ``test/`` beside ``ground_truth/``."""
    return (folder / "train" / "good").is_dir() or ((folder / "test").is_dir() and (folder / "ground_truth").is_dir())


class Folder(CloudDataset):
    Params = FolderParams

    def iter_subsets(self) -> Iterator[Subset]:
        p, root = self.params, Path(self.params.root)
        if p.split == "all":
            if root.is_file():
                yield single_file_subset(root, self.where)
                return
            if root.is_dir() and not is_category(root) and not any(
                    is_category(d) for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")):
                yield self._any_folder(root)
                return
        for cat in source_categories(p, self.where, is_category):
            yield self._category(cat, root)

    def _category(self, cat: Path, root: Path) -> Subset:
        where, everything = self.where, self.params.split == "all"
        tally = Tally(where, cat.name)
        good = cat / "train" / "good"
        train_files = files(good, SUFFIXES, where, tally) if good.is_dir() or not everything else []
        train = [tally.read(f) for f in train_files]
        test = cat / "test"
        kinds = subfolders(test, where) if test.is_dir() or not everything else []
        scans = {d.name: files(d, SUFFIXES, where, tally) for d in kinds}
        for kind, found in scans.items():
            stems = [f.stem for f in found]
            twice = next((s for s in stems if stems.count(s) > 1), None)
            if twice is not None:
                raise DataError(f"{where}: two scans named {twice} in {cat / 'test' / kind} "
                                f"({', '.join(f.name for f in found if f.stem == twice)}); ground truth is "
                                "matched by name, so keep one")
        truth = _ground_truths(cat, scans)
        samples: list[PointCloud] = []
        targets, ids = [], []
        for kind, found in scans.items():
            for f in found:
                cloud = tally.read(f)
                samples.append(cloud)
                targets.append(self._target(kind, f, len(cloud), truth.get((kind, f.stem)), tally))
                ids.append(relative(f, root) if everything else f"{kind}/{f.stem}")
        if everything:
            return whole_subset(cat.name, train + samples, ids=[relative(f, root) for f in train_files] + ids,
                                targets=[np.zeros(len(c), np.int8) for c in train] + targets,
                                meta={"counts": tally.finish()})
        return Subset(name=cat.name, train=Split(samples=train, ids=[c.name for c in train]),
                      test=Split(samples=samples, targets=targets, ids=ids), meta={"counts": tally.finish()})

    def _any_folder(self, root: Path) -> Subset:
        """Every cloud file under ``root`` (subfolders too), unlabelled: a user's own scans."""
        tally = Tally(self.where, root.name)
        found = []
        for f in sorted(root.rglob("*")):
            rel = f.relative_to(root)
            if any(part.startswith(".") for part in rel.parts) or not f.is_file():
                continue
            if f.suffix.lower() in SUFFIXES:
                found.append(f)
            else:
                tally.add("files_skipped_unknown_format", rel.as_posix())
        if not found:
            raise DataError(f"{self.where}: {root} holds no {'/'.join(SUFFIXES)} files (its subfolders searched too)")
        clouds = [tally.read(f) for f in found]
        return whole_subset(root.name, clouds, ids=[relative(f, root) for f in found], meta={"counts": tally.finish()})

    def _target(self, kind: str, f: Path, n: int, gt: Path | None, tally: Tally) -> np.ndarray:
        normal = kind == self.params.normal_folder
        if gt is None:
            if not normal:
                tally.add("defective_scans_without_ground_truth", f"{kind}/{f.stem}")
            return np.full(n, 0 if normal else 1, np.int8)
        labels = read_labels(gt)
        if len(labels) != n:
            raise DataError(f"{gt}: {len(labels)} labels but {f} has {n} points; one label per point, in order")
        if normal and labels.any():
            raise DataError(f"{gt}: the normal scan {kind}/{f.stem} has {int(labels.sum())} points labelled "
                            f"anomalous; move the scan out of test/{kind}/ or fix its labels")
        return labels


def _ground_truths(cat: Path, scans: dict[str, list[Path]]) -> dict[tuple[str, str], Path]:
    """``(kind, scan stem) -> ground-truth file``; a file that belongs to no scan, or a second one, is an error."""
    root = cat / "ground_truth"
    if not root.is_dir():
        return {}
    out: dict[tuple[str, str], Path] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if not entry.is_dir():
            raise DataError(f"{entry}: ground truth goes in ground_truth/<kind>/<scan>.txt (or .npy), one folder per "
                            f"test kind ({sorted(scans)})")
        kind = entry.name
        if kind not in scans:
            raise DataError(f"{entry}: ground truth for kind {kind!r} but test/ has no such folder "
                            f"(test kinds: {sorted(scans)})")
        stems = {f.stem for f in scans[kind]}
        gts = sorted(g for g in entry.iterdir() if g.is_file() and not g.name.startswith("."))
        for g in gts:
            if g.suffix.lower() not in _GT:
                raise DataError(f"{g}: ground truth must be a .txt or .npy file of 0/1 labels, one per point")
            if (kind, g.stem) in out:
                raise DataError(f"{entry}: two ground truths for scan {kind}/{g.stem}: {out[kind, g.stem].name} and "
                                f"{g.name}; keep one")
            if g.stem in stems:
                out[kind, g.stem] = g
        for g in gts:
            if g.stem not in stems:
                free = sorted(stems - {s for k, s in out if k == kind})
                close = difflib.get_close_matches(g.stem, free, n=1)
                raise DataError(
                    f"{g}: this ground truth matches no scan of test/{kind}/ (it must be named <scan stem>.txt or "
                    f".npy); scans of {kind} without one: {free[:10]}{' ...' if len(free) > 10 else ''}"
                    + (f"; did you mean {close[0]}{g.suffix}?" if close else "")
                )
    return out
