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
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from omniad.data import Split, Subset
from omniad.errors import DataError
from omniad_pointcloud.datasets.base import CloudDataset, Tally, categories, files, subfolders
from omniad_pointcloud.datasets.params import FolderParams
from omniad_pointcloud.io import SUFFIXES, read_labels

_GT = (".txt", ".npy")


class Folder(CloudDataset):
    Params = FolderParams

    def iter_subsets(self) -> Iterator[Subset]:
        where = self.where
        for cat in categories(self.params, where):
            tally = Tally(where, cat.name)
            train = [tally.read(f) for f in files(cat / "train" / "good", SUFFIXES, where, tally)]
            scans = {d.name: files(d, SUFFIXES, where, tally) for d in subfolders(cat / "test", where)}
            for kind, found in scans.items():
                stems = [f.stem for f in found]
                twice = next((s for s in stems if stems.count(s) > 1), None)
                if twice is not None:
                    raise DataError(f"{where}: two scans named {twice} in {cat / 'test' / kind} "
                                    f"({', '.join(f.name for f in found if f.stem == twice)}); ground truth is "
                                    "matched by name, so keep one")
            truth = _ground_truths(cat, scans)
            samples, targets, ids = [], [], []
            for kind, found in scans.items():
                for f in found:
                    cloud = tally.read(f)
                    samples.append(cloud)
                    targets.append(self._target(kind, f, len(cloud), truth.get((kind, f.stem)), tally))
                    ids.append(f"{kind}/{f.stem}")
            yield Subset(name=cat.name, train=Split(samples=train, ids=[c.name for c in train]),
                         test=Split(samples=samples, targets=targets, ids=ids), meta={"counts": tally.finish()})

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
