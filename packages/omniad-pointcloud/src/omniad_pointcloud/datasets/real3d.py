"""Real3D-AD: ``<category>/train/*template*.pcd``, ``test/*.pcd``, ``gt/<stem>.txt`` (x y z label).

Normal test scans carry ``good`` in their name and may have no ground-truth file; every
other test scan must have one. Test files with ``temp`` in their name are skipped, as the
official readers skip them (counted in ``Subset.meta["counts"]["test_templates_skipped"]``).
Layout as the official loader (M-3LAB/Real3D-AD) reads it; see ``docs/datasets.md``.

A ground-truth file named after no test scan cannot change a label here (every defective
scan must have its own), so it is counted (``unmatched_ground_truth``) and warned about
rather than refused: a release may carry files we have not seen. A category without a ``gt``
folder at all is unlabelled (own scans in this layout): its test clouds get no labels.

With ``split="all"`` each category is one subset of every cloud (templates included, named by
their path below ``root``); ``root`` may be one category folder or one cloud file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from omniad.data import Split, Subset, whole_subset
from omniad.errors import DataError
from omniad_pointcloud.datasets.base import (
    CloudDataset,
    Tally,
    files,
    labels_for,
    relative,
    single_file_subset,
    source_categories,
    stray_files,
)
from omniad_pointcloud.datasets.params import Real3DParams

_CLOUDS = (".pcd", ".ply")


class Real3D(CloudDataset):
    Params = Real3DParams
    gt_folder = "gt"
    normal_pattern = re.compile(r"good")

    def iter_subsets(self) -> Iterator[Subset]:
        where, p, root = self.where, self.params, Path(self.params.root)
        if p.split == "all" and root.is_file():
            yield single_file_subset(root, where)
            return
        normal = re.compile(p.normal_pattern) if p.normal_pattern is not None else self.normal_pattern
        for cat in source_categories(p, where, lambda d: (d / "train").is_dir() and (d / "test").is_dir()):
            tally = Tally(where, cat.name)
            train_files = files(cat / "train", _CLOUDS, where, tally)
            train = [tally.read(f) for f in train_files]
            gt_dir = cat / self.gt_folder
            labelled = gt_dir.is_dir()
            samples, targets, ids = [], [], []
            tests = files(cat / "test", _CLOUDS, where, tally)
            for f in tests:
                if "temp" in f.stem:  # templates left among the test scans; the official readers skip them too
                    tally.add("test_templates_skipped", f.name)
                    continue
                cloud = tally.read(f)
                gt = gt_dir / f"{f.stem}.txt"
                if not labelled:
                    target = None
                elif gt.is_file():
                    cloud, target = labels_for(cloud, gt, from_gt=p.cloud_from_gt)
                elif normal.search(f.stem):
                    target = np.zeros(len(cloud), np.int8)
                else:
                    raise DataError(f"{where}: ground truth {gt} of defective scan {f} is missing (a normal scan's "
                                    f"name matches {normal.pattern!r}; set normal_pattern otherwise)")
                samples.append(cloud)
                targets.append(target)
                ids.append(relative(f, root) if p.split == "all" else f.stem)
            stray_files(gt_dir, {f.stem for f in tests}, tally)
            truth = targets if labelled else None
            if p.split == "all":
                yield whole_subset(
                    cat.name, train + samples, ids=[relative(f, root) for f in train_files] + ids,
                    targets=None if truth is None else [np.zeros(len(c), np.int8) for c in train] + truth,
                    meta={"counts": tally.finish()})
                continue
            yield Subset(name=cat.name, train=Split(samples=train, ids=[c.name for c in train]),
                         test=Split(samples=samples, targets=truth, ids=ids), meta={"counts": tally.finish()})
