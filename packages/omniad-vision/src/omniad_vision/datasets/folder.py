"""A dataset from plain folders: any folder of images (or one image file), or normal / anomalous folders.

``root`` is what ``omniad fit / score`` open for a folder of images or an image file: every
image below it is a sample named by its relative path, labelled only where the folder names
say so (``omniad_vision.datasets.source``). ``normal_dir`` (+ ``abnormal_dir``, masks) is the
benchmark form: normal images train the detector minus a seeded hold-out, which with the
anomalous images forms the test split.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from omniad.data import Subset
from omniad.errors import DataError
from omniad_vision.datasets.base import VisionDataset
from omniad_vision.datasets.files import TestImage, labelled_folder, test_split, train_split
from omniad_vision.datasets.params import FolderParams
from omniad_vision.datasets.source import Counts, read_everything, whole_images
from omniad_vision.images import list_images


class ImageFolder(VisionDataset):
    """``root``: read whole, labels optional. ``normal_dir``: normal images train the detector (minus a
    seeded hold-out unless ``normal_test_dir`` is given); anomalous images (``abnormal_dir``, optional)
    and the held-out normals form the test split. Without ``mask_dir`` the test split has no pixel
    targets and only image-level metrics apply.
    """

    Params = FolderParams

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        if p.root is not None:
            yield read_everything(Path(p.root), self.where, name=p.name, mask_dir=p.mask_dir,
                                  mask_suffix=p.mask_suffix)
            return
        assert p.normal_dir is not None
        name = p.name or "folder"
        where = f"{self.where}, subset {name!r}"
        normal = list_images(p.normal_dir, where)
        if not normal:
            raise DataError(f"{where}: no images in normal_dir {p.normal_dir}")
        if p.mask_dir is not None and not p.mask_dir.is_dir():
            raise DataError(f"{where}: mask_dir {p.mask_dir} does not exist")
        anomalous = []
        if p.abnormal_dir is not None:
            anomalous = labelled_folder(p.abnormal_dir, 1, p.mask_dir, (p.mask_suffix,), where)
            if not anomalous:
                raise DataError(f"{where}: no images in abnormal_dir {p.abnormal_dir}")
        if p.mode == "all":
            items = [TestImage(q, 0, None, f"{p.normal_dir.name}/{q.name}") for q in normal]
            if p.normal_test_dir is not None:
                items += [TestImage(q, 0, None, f"{p.normal_test_dir.name}/{q.name}")
                          for q in list_images(p.normal_test_dir, where)]
            yield whole_images(name, items + anomalous, where, with_masks=p.mask_dir is not None and bool(anomalous),
                               counts=Counts(where, name))
            return
        if p.normal_test_dir is not None:
            train_paths = normal
            test_normal = list_images(p.normal_test_dir, where)
        else:
            order = np.random.default_rng(p.seed).permutation(len(normal))
            n_test = round(len(normal) * p.normal_test_fraction)
            if n_test >= len(normal):
                raise DataError(f"{where}: normal_test_fraction leaves no training images; lower it")
            test_normal = sorted(normal[i] for i in order[:n_test])
            train_paths = sorted(normal[i] for i in order[n_test:])
        items = [TestImage(q, 0, None, f"normal/{q.name}") for q in test_normal] + anomalous
        if not items:
            raise DataError(f"{where}: the test split is empty: give abnormal_dir, normal_test_dir or a "
                            "normal_test_fraction above 0")
        test = test_split(items, where, with_masks=p.mask_dir is not None and bool(anomalous))
        yield Subset(name=name, train=train_split(train_paths, p.normal_dir, where), test=test)
