"""Parameter models of the vision datasets (pydantic only: imported by discovery)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from omniad.params import Params

#: what ``split="all"`` means, for every loader that has it
ALL_SPLIT = (
    "benchmark: the layout's train and test splits; all: every image is scored and the images not labelled "
    "anomalous are fitted on, labels and masks where the layout has them (what `omniad fit / score` use)"
)


class FolderTreeParams(Params):
    root: Path | None = Field(
        default=None,
        description="dataset root holding one folder per category (with split='all' also one category folder, or "
        "any folder or image file); default: $OMNIAD_SHARED_DATA/data/<name>",
    )
    categories: tuple[str, ...] | None = Field(
        default=None, description="categories (subsets) to load, in this order; None = every category found"
    )
    max_train: int | None = Field(
        default=None, ge=1, description="use only the first N training images (sorted by name); None = all"
    )
    split: Literal["benchmark", "all"] = Field(default="benchmark", description=ALL_SPLIT)


class MVTecParams(FolderTreeParams):
    """MVTec AD layout: ``<cat>/train/good``, ``<cat>/test/<defect>``, ``<cat>/ground_truth/<defect>/*_mask.png``."""


class MPDDParams(FolderTreeParams):
    """MPDD ships in the MVTec AD layout."""


class BTADParams(FolderTreeParams):
    """BTAD layout: ``<NN>/train/ok``, ``<NN>/test/{ok,ko}``, ``<NN>/ground_truth/ko/<stem>.png``."""


class VisAParams(FolderTreeParams):
    split_csv: str = Field(
        default="split_csv/1cls.csv",
        description="split file relative to root (columns object,split,label,image,mask), VisA's one-class split",
    )


class FolderParams(Params):
    """Either ``root`` (a folder of images, or one image file: read whole) or ``normal_dir`` (+ ``abnormal_dir``)."""

    root: Path | None = Field(
        default=None,
        description="a folder of images (subfolders searched too) or one image file, read whole (split='all'): labels "
        "from good/defect folder names and masks from ground_truth folders where the layout has them, "
        "otherwise unlabelled; what `omniad fit / score` open",
    )
    normal_dir: Path | None = Field(default=None, description="folder of normal (good) images")
    abnormal_dir: Path | None = Field(
        default=None,
        description="folder of anomalous images (all go to the test split); None: the test split holds only the "
        "held-out normal images",
    )
    mask_dir: Path | None = Field(
        default=None, description="folder of masks for the anomalous images, matched by file stem"
    )
    mask_suffix: str = Field(default="", description="mask file = <image stem><mask_suffix>.<any image type>")
    normal_test_dir: Path | None = Field(
        default=None, description="normal test images; when None a fraction of normal_dir is held out"
    )
    normal_test_fraction: float = Field(
        default=0.2, ge=0, lt=1, description="share of normal_dir held out for testing when normal_test_dir is None"
    )
    name: str | None = Field(
        default=None, min_length=1,
        description="subset name in reports; None: the folder's name with root, 'folder' with normal_dir",
    )
    seed: int = Field(default=0, description="seed of the normal train/test hold-out")
    split: Literal["benchmark", "all"] | None = Field(
        default=None, description=f"{ALL_SPLIT}; None: 'all' with root, 'benchmark' with normal_dir",
    )

    @model_validator(mode="after")
    def _one_source(self) -> FolderParams:
        if (self.root is None) == (self.normal_dir is None):
            raise ValueError("give root (a folder of images or one image file) or normal_dir (with abnormal_dir), "
                             "exactly one of them")
        if self.root is not None:
            if self.split == "benchmark":
                raise ValueError("root is read whole (split='all'); for a train/test split give normal_dir and "
                                 "abnormal_dir instead")
            extra = [k for k in ("abnormal_dir", "normal_test_dir") if getattr(self, k) is not None]
            if extra:
                raise ValueError(f"{', '.join(extra)} go with normal_dir; with root the labels come from the folder "
                                 "names (good / <defect> folders)")
        return self

    @property
    def mode(self) -> Literal["benchmark", "all"]:
        return self.split or ("all" if self.root is not None else "benchmark")


class SyntheticParams(Params):
    textures: tuple[str, ...] = Field(
        default=("stripes", "grid", "noise"),
        description="procedural textures, one subset each: stripes, grid, noise, dots",
    )
    defects: tuple[str, ...] = Field(
        default=("perlin", "cutpaste", "scratch"),
        description="defect generators drawn at random: perlin (foreign texture in a Perlin-noise "
        "region), cutpaste (jittered patch moved elsewhere), scratch (thin contrasting line)",
    )
    image_size: int = Field(default=64, ge=32, le=1024)
    n_train: int = Field(default=20, ge=1)
    n_test_normal: int = Field(default=10, ge=1)
    n_test_anomalous: int = Field(default=10, ge=1)
    seed: int = 0

    @field_validator("textures")
    @classmethod
    def _check_textures(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = sorted(set(value) - {"stripes", "grid", "noise", "dots"})
        if bad or not value:
            raise ValueError(f"textures must be a non-empty subset of stripes, grid, noise, dots; got {bad or value}")
        return value

    @field_validator("defects")
    @classmethod
    def _check_defects(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = sorted(set(value) - {"perlin", "cutpaste", "scratch"})
        if bad or not value:
            raise ValueError(f"defects must be a non-empty subset of perlin, cutpaste, scratch; got {bad or value}")
        return value
