"""MVTec AD and the datasets that copy its folder layout (MPDD, BTAD): one subset per category.

Layout ``<root>/<category>/train/<good>/*``, ``<category>/test/<defect or good>/*`` and
``<category>/ground_truth/<defect>/<stem><mask suffix>.png``. MVTec AD and MPDD name the
normal folder ``good`` and masks ``*_mask.png``; BTAD uses ``ok``/``ko`` and masks named
like the image. Test images are ordered by folder then file name.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from omniad.data import Subset
from omniad.errors import DataError
from omniad_vision.datasets.base import VisionDataset
from omniad_vision.datasets.files import (
    default_root,
    labelled_folder,
    select_categories,
    test_split,
    train_split,
)
from omniad_vision.datasets.params import BTADParams, MPDDParams, MVTecParams
from omniad_vision.images import list_images


class MVTecLayout(VisionDataset):
    """Any dataset in the MVTec AD layout."""

    Params = MVTecParams
    folder_name: ClassVar[str] = "mvtec"
    good: ClassVar[str] = "good"
    mask_suffixes: ClassVar[tuple[str, ...]] = ("_mask",)

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        root = default_root(p.root, self.folder_name, self.where)
        found = sorted(d.name for d in root.iterdir() if (d / "train").is_dir())
        for category in select_categories(found, p.categories, root, self.where):
            yield self._subset(root / category, f"{self.where}, category {category!r}", p.max_train)

    def _subset(self, folder: Path, where: str, max_train: int | None) -> Subset:
        train_dir = folder / "train" / self.good
        train = train_split(list_images(train_dir, where), train_dir, where, max_train)
        test_root = folder / "test"
        if not test_root.is_dir():
            raise DataError(f"{where}: folder {test_root} does not exist; the category needs test images")
        items = []
        for sub in sorted(d for d in test_root.iterdir() if d.is_dir()):
            label = 0 if sub.name == self.good else 1
            items += labelled_folder(sub, label, folder / "ground_truth" / sub.name, self.mask_suffixes, where)
        return Subset(name=folder.name, train=train, test=test_split(items, where), meta={"root": str(folder)})


class MVTecAD(MVTecLayout):
    Params = MVTecParams
    folder_name = "mvtec"


class MPDD(MVTecLayout):
    Params = MPDDParams
    folder_name = "mpdd"


class BTAD(MVTecLayout):
    Params = BTADParams
    folder_name = "btad"
    good = "ok"
    mask_suffixes = ("", "_mask")
