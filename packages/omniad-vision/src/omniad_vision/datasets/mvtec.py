"""MVTec AD and the datasets that copy its folder layout (MPDD, BTAD): one subset per category.

Layout ``<root>/<category>/train/<good>/*``, ``<category>/test/<defect or good>/*`` and
``<category>/ground_truth/<defect>/<stem><mask suffix>.png``. MVTec AD and MPDD name the
normal folder ``good`` and masks ``*_mask.png``; BTAD uses ``ok``/``ko`` and masks named
like the image. Test images are ordered by folder then file name.

A defect kind without a ``ground_truth`` folder keeps its image labels but has no masks:
the subset then has no pixel targets, counted (``anomalous_images_without_masks``) and
warned about; a missing mask inside an existing folder is an error (the ground truth is
wrong). With ``split="all"`` (what ``omniad fit / score`` open a folder with) each category
is one subset of every image, train and test, named by its path below ``root``; ``root`` may
be one category folder, and a folder or image file in no such layout is read as
``vision.folder`` reads it, so a model fitted on a category can score any new folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from omniad.data import Subset
from omniad.errors import DataError
from omniad_vision.datasets.base import VisionDataset
from omniad_vision.datasets.files import (
    TestImage,
    default_root,
    labelled_folder,
    select_categories,
    test_split,
    train_split,
)
from omniad_vision.datasets.params import BTADParams, MPDDParams, MVTecParams
from omniad_vision.datasets.source import Counts, read_everything, whole_images
from omniad_vision.images import list_images


class MVTecLayout(VisionDataset):
    """Any dataset in the MVTec AD layout."""

    Params = MVTecParams
    folder_name: ClassVar[str] = "mvtec"
    good: ClassVar[str] = "good"
    mask_suffixes: ClassVar[tuple[str, ...]] = ("_mask",)

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        if p.split == "all" and p.root is not None and Path(p.root).expanduser().is_file():
            yield read_everything(Path(p.root), self.where)
            return
        root = default_root(p.root, self.folder_name, self.where)
        if p.split == "all" and (root / "train" / self.good).is_dir():
            yield self._subset(root, f"{self.where}, category {root.name!r}", p.max_train, root)
            return
        found = sorted(d.name for d in root.iterdir() if (d / "train").is_dir())
        if p.split == "all" and not found:
            yield read_everything(root, self.where)
            return
        for category in select_categories(found, p.categories, root, self.where):
            all_root = root if p.split == "all" else None
            yield self._subset(root / category, f"{self.where}, category {category!r}", p.max_train, all_root)

    def _subset(self, folder: Path, where: str, max_train: int | None, all_root: Path | None = None) -> Subset:
        """One category; with ``all_root`` every image in one subset, named relative to that folder."""
        counts = Counts(where, folder.name)
        train_dir = folder / "train" / self.good
        train = train_split(list_images(train_dir, where), train_dir, where, max_train)
        test_root = folder / "test"
        if not test_root.is_dir() and all_root is None:
            raise DataError(f"{where}: folder {test_root} does not exist; the category needs test images")
        items = []
        for sub in sorted(d for d in test_root.iterdir() if d.is_dir()) if test_root.is_dir() else []:
            label = 0 if sub.name == self.good else 1
            masks = folder / "ground_truth" / sub.name
            found = labelled_folder(sub, label, masks if masks.is_dir() else None, self.mask_suffixes, where)
            if label == 1 and not masks.is_dir():
                for t in found:
                    counts.add("anomalous_images_without_masks", t.id)
            items += found
        with_masks = "anomalous_images_without_masks" not in counts.n
        if all_root is not None:
            def rel(path: Path) -> str:
                return path.relative_to(all_root).as_posix()

            everything = [TestImage(q, 0, None, rel(q)) for q in train.samples.paths]  # type: ignore[attr-defined]
            everything += [TestImage(t.path, t.label, t.mask, rel(t.path)) for t in items]
            return whole_images(folder.name, everything, where, with_masks=with_masks, counts=counts)
        test = test_split(items, where, with_masks=with_masks)
        meta = {"root": str(folder), "counts": counts.finish()}
        return Subset(name=folder.name, train=train, test=test, meta=meta)


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
