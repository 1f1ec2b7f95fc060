"""Parameters of the point cloud datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from omniad.params import Params

_DEFECTS = ("bulge", "dent", "crack", "hole", "missing")


class SyntheticParams(Params):
    shapes: tuple[str, ...] = Field(
        default=("sphere", "torus", "box"), min_length=1,
        description="one subset per shape: sphere, ellipsoid, cylinder, torus, box, cone, capsule, or "
        "'pyvista:<airplane|ant|nut|sphere>' (a mesh shipped with pyvista, when it is installed)",
    )
    defects: tuple[str, ...] = Field(default=_DEFECTS, min_length=1, description="defect kinds in the test split")
    n_points: int = Field(default=2048, ge=64, description="points sampled per cloud before defects")
    n_train: int = Field(default=8, ge=1)
    n_test_normal: int = Field(default=4, ge=0)
    n_test_per_defect: int = Field(default=3, ge=1)
    noise: float = Field(default=0.002, ge=0, description="Gaussian surface noise (unit bounding radius)")
    rotate: bool = Field(default=False, description="random rotation per cloud (then use align='icp')")
    defect_size: float = Field(default=0.25, gt=0, le=1)
    defect_depth: float = Field(default=0.08, gt=0, le=1)
    seed: int = 0

    @field_validator("shapes")
    @classmethod
    def _known_shapes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from omniad_pointcloud.shapes import PYVISTA_MESHES, SHAPES

        bad = [s for s in value if s not in SHAPES and not (s.startswith("pyvista:") and s[8:] in PYVISTA_MESHES)]
        if bad:
            raise ValueError(f"unknown shape {bad[0]!r}; choose from {sorted(SHAPES)} or 'pyvista:<mesh>' {PYVISTA_MESHES}")
        if len(set(value)) != len(value):
            raise ValueError("each shape is one subset; name it once")
        return value

    @field_validator("defects")
    @classmethod
    def _known_defects(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [d for d in value if d not in _DEFECTS]
        if bad:
            raise ValueError(f"unknown defect kind {bad[0]!r}; choose from {_DEFECTS}")
        return value


class RootParams(Params):
    root: Path = Field(description="dataset folder (with split='all' also one category folder, or one cloud file)")
    categories: tuple[str, ...] = Field(default=(), description="subsets to load (default: every category folder)")
    split: Literal["benchmark", "all"] = Field(
        default="benchmark",
        description="benchmark: the layout's train and test splits; all: every cloud is scored and the clouds not "
        "labelled anomalous are fitted on, labels from ground truth where there is some (what `omniad fit / score` "
        "use; a single cloud file is then one subset of one cloud)",
    )


class Real3DParams(RootParams):
    cloud_from_gt: bool = Field(
        default=False,
        description="take defective clouds' points from gt/*.txt (as the official loader) instead of checking "
        "that they match the scan",
    )
    normal_pattern: str | None = Field(
        default=None,
        description="regex on a test file's stem marking a normal scan that needs no ground truth "
        "(default 'good' for Real3D-AD, 'positive' for Anomaly-ShapeNet)",
    )

    @field_validator("normal_pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        import re

        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"normal_pattern {value!r} is not a regular expression ({exc})") from None
        return value


class MVTec3DParams(RootParams):
    use_rgb: bool = Field(default=False, description="also read rgb/*.png as point colours")
    remove_plane: bool = Field(default=False, description="drop the background plane (RANSAC on border pixels)")
    plane_border: int = Field(default=10, ge=1, description="border width in pixels the plane is fitted to")
    plane_distance: float = Field(default=0.005, gt=0, description="points nearer the plane than this are dropped")


class FolderParams(RootParams):
    normal_folder: str = Field(default="good", description="test sub-folder holding the normal clouds")
