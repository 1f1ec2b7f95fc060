"""Real3D-AD: ``<category>/train/*template*.pcd``, ``test/*.pcd``, ``gt/<stem>.txt`` (x y z label).

Normal test scans carry ``good`` in their name and may have no ground-truth file; every
other test scan must have one. Test files with ``temp`` in their name are skipped, as the
official readers skip them (counted in ``Subset.meta["counts"]["test_templates_skipped"]``).
Layout as the official loader (M-3LAB/Real3D-AD) reads it; see ``docs/datasets.md``.

A ground-truth file named after no test scan cannot change a label here (every defective
scan must have its own), so it is counted (``unmatched_ground_truth``) and warned about
rather than refused: a release may carry files we have not seen.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

from omniad.data import Split, Subset
from omniad.errors import DataError
from omniad_pointcloud.datasets.base import CloudDataset, Tally, categories, files, labels_for, stray_files
from omniad_pointcloud.datasets.params import Real3DParams

_CLOUDS = (".pcd", ".ply")


class Real3D(CloudDataset):
    Params = Real3DParams
    gt_folder = "gt"
    normal_pattern = re.compile(r"good")

    def iter_subsets(self) -> Iterator[Subset]:
        where, p = self.where, self.params
        normal = re.compile(p.normal_pattern) if p.normal_pattern is not None else self.normal_pattern
        for cat in categories(p, where):
            tally = Tally(where, cat.name)
            train = [tally.read(f) for f in files(cat / "train", _CLOUDS, where, tally)]
            samples, targets, ids = [], [], []
            tests = files(cat / "test", _CLOUDS, where, tally)
            for f in tests:
                if "temp" in f.stem:  # templates left among the test scans; the official readers skip them too
                    tally.add("test_templates_skipped", f.name)
                    continue
                cloud = tally.read(f)
                gt = cat / self.gt_folder / f"{f.stem}.txt"
                if gt.is_file():
                    cloud, target = labels_for(cloud, gt, from_gt=p.cloud_from_gt)
                elif normal.search(f.stem):
                    target = np.zeros(len(cloud), np.int8)
                else:
                    raise DataError(f"{where}: ground truth {gt} of defective scan {f} is missing (a normal scan's "
                                    f"name matches {normal.pattern!r}; set normal_pattern otherwise)")
                samples.append(cloud)
                targets.append(target)
                ids.append(f.stem)
            stray_files(cat / self.gt_folder, {f.stem for f in tests}, tally)
            yield Subset(name=cat.name, train=Split(samples=train, ids=[c.name for c in train]),
                         test=Split(samples=samples, targets=targets, ids=ids), meta={"counts": tally.finish()})
