"""VisA (Zou et al., ECCV 2022) through its split CSV: one subset per object."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from omniad.data import Subset
from omniad.errors import DataError
from omniad_vision.datasets.base import VisionDataset
from omniad_vision.datasets.files import TestImage, default_root, select_categories, test_split, train_split
from omniad_vision.datasets.params import VisAParams

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
        root = default_root(p.root, "visa", self.where)
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
            yield Subset(name=obj, train=train, test=test_split(items, where), meta={"root": str(root)})
