"""Several synthetic categories (textures and objects) for class-agnostic detectors.

Methods such as ResAD++ and NAGL fit on some categories and score others they never saw,
given a few normal shots of each scored category. Only one real category (MPDD metal_plate)
is at hand here, so this generator supplies the categories: the four textures of
``vision.synthetic`` (stripes, grid, noise, dots) and three procedural objects (washer: a
shaded metal ring; plate: a brushed plate with four holes; capsule: a two-coloured pill), each
with pose, colour and sensor-noise variation, and the same defect recipes (Perlin-shaped
foreign texture, CutPaste, scratch) with pixel masks.

Protocols:

- one-class (``train_categories`` unset): one subset per category, fitted on its own normals;
- cross-class (``train_categories`` set): one subset per scored category (``test_categories``,
  default: every category not trained on); its training split holds the normal images of every
  training category and then ``reference_shots`` normal images of the scored category (ids
  ``reference/<category>/NNN``, drawn apart from its test images): the few-shot normal
  references that residual methods compare against. A detector sees them as more normal
  training images; ``Subset.meta`` names the training categories and the references.

Every category draws from its own seeded streams (one per role), so a category's test images
are the same in both protocols and whatever other categories are chosen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from pydantic import Field, field_validator, model_validator

from omniad.data import Split, Subset
from omniad.params import Params
from omniad_vision.datasets.base import VisionDataset
from omniad_vision.datasets.synthetic import (
    PALETTES,
    cutpaste_defect,
    paint,
    pattern,
    perlin_defect,
    scratch_defect,
    to_uint8,
)

TEXTURES = ("stripes", "grid", "noise", "dots")
OBJECTS = ("washer", "plate", "capsule")
CATEGORIES = TEXTURES + OBJECTS
DEFECTS = ("perlin", "cutpaste", "scratch")
#: stream per role of a category, so adding images of one role never shifts another
_ROLES = {"train": 0, "reference": 1, "test_normal": 2, "test_anomalous": 3}


def _check(value: tuple[str, ...] | None, known: tuple[str, ...], what: str) -> tuple[str, ...] | None:
    if value is None:
        return value
    bad = [v for v in value if v not in known]
    if bad or not value or len(set(value)) != len(value):
        raise ValueError(f"{what} must be distinct names from {', '.join(known)}; got {list(value)}")
    return value


class MultiClassParams(Params):
    categories: tuple[str, ...] = Field(
        default=CATEGORIES, description=f"categories in the one-class protocol: {', '.join(CATEGORIES)}",
    )
    train_categories: tuple[str, ...] | None = Field(
        default=None,
        description="cross-class protocol: fit on the normal images of these categories (plus the scored category's "
        "reference shots); None = one-class protocol, each category fitted on its own",
    )
    test_categories: tuple[str, ...] | None = Field(
        default=None, description="cross-class: categories scored, one subset each; None = those not trained on",
    )
    reference_shots: int = Field(
        default=4, ge=0,
        description="cross-class: normal images of the scored category appended to the training split (few-shot "
        "references); drawn apart from its test images",
    )
    defects: tuple[str, ...] = Field(default=DEFECTS, description="defect recipes drawn at random: perlin, cutpaste, scratch")
    image_size: int = Field(default=128, ge=32, le=1024)
    n_train: int = Field(default=20, ge=1, description="normal training images per category")
    n_test_normal: int = Field(default=10, ge=1)
    n_test_anomalous: int = Field(default=10, ge=1)
    seed: int = 0

    @field_validator("categories", "train_categories", "test_categories")
    @classmethod
    def _known(cls, value: tuple[str, ...] | None, info: object) -> tuple[str, ...] | None:
        return _check(value, CATEGORIES, getattr(info, "field_name", "categories"))

    @field_validator("defects")
    @classmethod
    def _defects(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check(value, DEFECTS, "defects") or value

    @model_validator(mode="after")
    def _protocol(self) -> MultiClassParams:
        if self.train_categories is None:
            if self.test_categories is not None:
                raise ValueError("test_categories goes with train_categories (the cross-class protocol); for one-class "
                                 "runs choose the categories with categories=[...]")
            return self
        scored = self.scored_categories
        overlap = sorted(set(scored) & set(self.train_categories))
        if overlap:
            raise ValueError(f"cross-class: scored categories {overlap} are also training categories; keep them apart")
        if not scored:
            raise ValueError("cross-class: every category is a training category, none is left to score; set "
                             "test_categories or train on fewer")
        return self

    @property
    def scored_categories(self) -> tuple[str, ...]:
        if self.train_categories is None:
            return self.categories
        if self.test_categories is not None:
            return self.test_categories
        return tuple(c for c in CATEGORIES if c not in self.train_categories)


# -- objects --------------------------------------------------------------------------------------
def _grid(size: int, rng: np.random.Generator, jitter: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates relative to a jittered centre, in units of the image side."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    cy, cx = 0.5 + rng.uniform(-jitter, jitter, 2)
    return yy - cy, xx - cx


def _background(size: int, rng: np.random.Generator, level: float) -> np.ndarray:
    return np.full((size, size, 3), level + rng.normal(0, 0.02)) + 0.03 * rng.normal(size=(1, 1, 3))


def washer(size: int, rng: np.random.Generator) -> np.ndarray:
    y, x = _grid(size, rng, 0.04)
    r = np.hypot(y, x)
    outer, inner = rng.uniform(0.33, 0.36), rng.uniform(0.14, 0.16)
    ring = np.clip((outer - r) * size / 1.5, 0, 1) * np.clip((r - inner) * size / 1.5, 0, 1)
    light = np.arctan2(y, x) + rng.uniform(0, 2 * np.pi)
    metal = 0.55 + 0.15 * np.cos(light) + 0.08 * np.cos(2 * np.pi * r * 6)
    tint = np.array([0.95, 0.97, 1.0]) + rng.normal(0, 0.02, 3)
    img = _background(size, rng, 0.15)
    return img * (1 - ring[..., None]) + (metal[..., None] * tint) * ring[..., None]


def plate(size: int, rng: np.random.Generator) -> np.ndarray:
    y, x = _grid(size, rng, 0.03)
    half = rng.uniform(0.36, 0.39)
    body = np.clip((half - np.maximum(np.abs(y), np.abs(x))) * size / 1.5, 0, 1)
    holes = np.zeros_like(body)
    for sy in (-1, 1):
        for sx in (-1, 1):
            d = np.hypot(y - sy * half * 0.7, x - sx * half * 0.7)
            holes = np.maximum(holes, np.clip((0.05 - d) * size / 1.5, 0, 1))
    body = body * (1 - holes)
    brushed = 0.6 + 0.05 * np.sin(2 * np.pi * (y * 40 + rng.uniform(0, 1))) + 0.04 * rng.normal(size=(1, size))
    img = _background(size, rng, 0.25)
    return img * (1 - body[..., None]) + (brushed[..., None] * np.array([0.9, 0.9, 0.95])) * body[..., None]


def capsule(size: int, rng: np.random.Generator) -> np.ndarray:
    y, x = _grid(size, rng, 0.03)
    theta = np.deg2rad(rng.normal(0, 4))
    u, v = x * np.cos(theta) + y * np.sin(theta), -x * np.sin(theta) + y * np.cos(theta)
    length, radius = rng.uniform(0.26, 0.28), rng.uniform(0.12, 0.13)
    d = np.hypot(np.clip(np.abs(u) - length, 0, None), v)  # distance to the capsule's spine
    body = np.clip((radius - d) * size / 1.5, 0, 1)
    left = np.array([0.75, 0.15, 0.12]) + rng.normal(0, 0.02, 3)
    right = np.array([0.9, 0.88, 0.8]) + rng.normal(0, 0.02, 3)
    colour = np.where((u < 0)[..., None], left, right) * (0.8 + 0.3 * (1 - (v / radius) ** 2).clip(0, 1))[..., None]
    img = _background(size, rng, 0.85)
    return img * (1 - body[..., None]) + colour * body[..., None]


_OBJECTS: dict[str, Callable[[int, np.random.Generator], np.ndarray]] = {"washer": washer, "plate": plate, "capsule": capsule}


def normal_image(category: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """One normal image of ``category`` as floats in [0, 1], shape (size, size, 3)."""
    if category in _OBJECTS:
        return np.clip(_OBJECTS[category](size, rng), 0, 1)
    return paint(pattern(category, size, rng), PALETTES[category], rng)


def defective_image(category: str, defect: str, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    base = normal_image(category, size, rng)
    if defect == "perlin":
        return perlin_defect(base, category if category in TEXTURES else "dots", rng)
    if defect == "cutpaste":
        return cutpaste_defect(base, rng)
    return scratch_defect(base, rng)


class MultiClass(VisionDataset):
    """One subset per category (one-class) or per scored category (cross-class); see the module docstring."""

    Params = MultiClassParams

    def _rng(self, category: str, role: str) -> np.random.Generator:
        return np.random.default_rng([self.params.seed, CATEGORIES.index(category), _ROLES[role]])

    def _normals(self, category: str, role: str, n: int) -> list[np.ndarray]:
        rng = self._rng(category, role)
        return [to_uint8(normal_image(category, self.params.image_size, rng), rng) for _ in range(n)]

    def _test(self, category: str) -> Split:
        p = self.params
        samples = self._normals(category, "test_normal", p.n_test_normal)
        masks = [np.zeros((p.image_size, p.image_size), dtype=np.uint8) for _ in samples]
        ids = [f"good/{i:03d}" for i in range(p.n_test_normal)]
        rng = self._rng(category, "test_anomalous")
        for i in range(p.n_test_anomalous):
            defect = p.defects[int(rng.integers(len(p.defects)))]
            img, mask = defective_image(category, defect, p.image_size, rng)
            samples.append(to_uint8(img, rng))
            masks.append(mask.astype(np.uint8))
            ids.append(f"{defect}/{i:03d}")
        labels = np.r_[np.zeros(p.n_test_normal), np.ones(p.n_test_anomalous)].astype(np.int8)
        return Split(samples=samples, labels=labels, targets=masks, ids=ids,
                     meta={"defect": [i.split("/")[0] for i in ids], "category": category})

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        if p.train_categories is None:
            for cat in p.categories:
                train = Split(samples=self._normals(cat, "train", p.n_train), ids=[f"train/{i:03d}" for i in range(p.n_train)])
                yield Subset(name=cat, train=train, test=self._test(cat), meta={"protocol": "one-class"})
            return
        pool, pool_ids = [], []
        for cat in p.train_categories:
            pool += self._normals(cat, "train", p.n_train)
            pool_ids += [f"train/{cat}/{i:03d}" for i in range(p.n_train)]
        for cat in p.scored_categories:
            refs = self._normals(cat, "reference", p.reference_shots)
            ref_ids = [f"reference/{cat}/{i:03d}" for i in range(p.reference_shots)]
            train = Split(samples=pool + refs, ids=pool_ids + ref_ids)
            meta = {"protocol": "cross-class", "train_categories": list(p.train_categories),
                    "reference_shots": p.reference_shots, "reference_ids": ref_ids}
            yield Subset(name=cat, train=train, test=self._test(cat), meta=meta)
