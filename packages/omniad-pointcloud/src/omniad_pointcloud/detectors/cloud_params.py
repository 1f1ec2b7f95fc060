"""Parameters every point cloud detector has (imported by the cards' params models: no torch)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from omniad.params import Params


class CloudParams(Params):
    align: Literal["none", "center_scale", "icp"] = Field(
        default="center_scale",
        description="registration before features: none, centre + scale to unit radius, or also ICP onto "
        "the first training cloud",
    )
