"""A dataset from plain folders: normal images, anomalous images, optional masks."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from omniad.data import Subset
from omniad.errors import DataError
from omniad_vision.datasets.base import VisionDataset
from omniad_vision.datasets.files import TestImage, labelled_folder, test_split, train_split
from omniad_vision.datasets.params import FolderParams
from omniad_vision.images import list_images


class ImageFolder(VisionDataset):
    """Normal images train the detector (minus a seeded hold-out unless ``normal_test_dir`` is
    given); anomalous images and the held-out normals form the test split. Without
    ``mask_dir`` the test split has no pixel targets and only image-level metrics apply.
    """

    Params = FolderParams

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        where = f"{self.where}, subset {p.name!r}"
        normal = list_images(p.normal_dir, where)
        if not normal:
            raise DataError(f"{where}: no images in normal_dir {p.normal_dir}")
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
        if p.mask_dir is not None and not p.mask_dir.is_dir():
            raise DataError(f"{where}: mask_dir {p.mask_dir} does not exist")
        anomalous = labelled_folder(p.abnormal_dir, 1, p.mask_dir, (p.mask_suffix,), where)
        if not anomalous:
            raise DataError(f"{where}: no images in abnormal_dir {p.abnormal_dir}")
        items = [TestImage(q, 0, None, f"normal/{q.name}") for q in test_normal] + anomalous
        test = test_split(items, where, with_masks=p.mask_dir is not None)
        yield Subset(name=p.name, train=train_split(train_paths, p.normal_dir, where), test=test)
