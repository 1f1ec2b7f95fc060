"""VisA (Zou et al., ECCV 2022) through its split CSV: one subset per object.

With ``split="all"`` each object is one subset of every image the CSV lists (train and test,
named by their path below ``root``); a folder without the split file, or one image file, is
read as ``vision.folder`` reads it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from omniad.data import Subset
from omniad.errors import DataError
from omniad_vision.datasets.base import VisionDataset
from omniad_vision.datasets.files import TestImage, default_root, select_categories, test_split, train_split
from omniad_vision.datasets.params import VisAParams
from omniad_vision.datasets.source import Counts, read_everything, whole_images

COLUMNS = ("object", "split", "label", "image", "mask")


class VisA(VisionDataset):
    """Rows ``object,split,label,image,mask`` (paths relative to the root), ``label`` normal/anomaly."""

    Params = VisAParams

    def _rows(self, root: Path) -> list[dict[str, str]]:
        path = root / self.params.split_csv
        if not path.is_file():
            raise DataError(f"{self.where}: split file {path} does not exist; VisA ships it as split_csv/1cls.csv")
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        if not rows or any(c not in rows[0] for c in COLUMNS):
            raise DataError(f"{self.where}: {path} must have the columns {', '.join(COLUMNS)}")
        return rows

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        if p.split == "all" and p.root is not None and Path(p.root).expanduser().is_file():
            yield read_everything(Path(p.root), self.where)
            return
        root = default_root(p.root, "visa", self.where)
        if p.split == "all" and not (root / p.split_csv).is_file():
            yield read_everything(root, self.where)
            return
        rows = self._rows(root)
        found = sorted({r["object"] for r in rows})
        for obj in select_categories(found, p.categories, root, self.where):
            where = f"{self.where}, object {obj!r}"
            mine = [r for r in rows if r["object"] == obj]
            train_paths = sorted(root / r["image"] for r in mine if r["split"] == "train")
            items = []
            for r in sorted((r for r in mine if r["split"] == "test"), key=lambda r: r["image"]):
                label = {"normal": 0, "anomaly": 1}.get(r["label"].strip().lower())
                if label is None:
                    raise DataError(f"{where}: label {r['label']!r} of {r['image']} is not 'normal' or 'anomaly'")
                mask = root / r["mask"] if label == 1 and r["mask"].strip() else None
                if label == 1 and (mask is None or not mask.is_file()):
                    raise DataError(f"{where}: anomalous image {r['image']} has no mask file ({r['mask']!r})")
                items.append(TestImage(root / r["image"], label, mask, f"{r['label']}/{Path(r['image']).name}"))
            train = train_split(train_paths, root, where, p.max_train)
            if p.split == "all":
                everything = [TestImage(q, 0, None, q.relative_to(root).as_posix()) for q in train.samples.paths]
                everything += [TestImage(t.path, t.label, t.mask, t.path.relative_to(root).as_posix()) for t in items]
                yield whole_images(obj, everything, where, with_masks=True, counts=Counts(where, obj))
                continue
            yield Subset(name=obj, train=train, test=test_split(items, where), meta={"root": str(root)})
