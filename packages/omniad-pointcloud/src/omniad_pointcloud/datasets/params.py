"""Parameters of the point cloud datasets."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from omniad.params import Params

_DEFECTS = ("bulge", "dent", "crack", "hole", "missing")


class SyntheticParams(Params):
    shapes: tuple[str, ...] = Field(default=("sphere", "torus", "box"), description="one subset per shape")
    defects: tuple[str, ...] = Field(default=_DEFECTS, description="defect kinds in the test split")
    n_points: int = Field(default=2048, ge=64, description="points sampled per cloud before defects")
    n_train: int = Field(default=8, ge=1)
    n_test_normal: int = Field(default=4, ge=0)
    n_test_per_defect: int = Field(default=3, ge=1)
    noise: float = Field(default=0.002, ge=0, description="Gaussian surface noise (unit bounding radius)")
    rotate: bool = Field(default=False, description="random rotation per cloud (then use align='icp')")
    defect_size: float = Field(default=0.25, gt=0, le=1)
    defect_depth: float = Field(default=0.08, gt=0, le=1)
    seed: int = 0


class RootParams(Params):
    root: Path = Field(description="dataset folder")
    categories: tuple[str, ...] = Field(default=(), description="subsets to load (default: every category folder)")


class MVTec3DParams(RootParams):
    use_rgb: bool = Field(default=False, description="also read rgb/*.png as point colours")


class FolderParams(RootParams):
    pass
