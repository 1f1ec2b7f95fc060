"""Registry cards for the BTF memory-bank detectors (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar

_T = "omniad_pointcloud.detectors.btf.detector"
_P = "omniad_pointcloud.detectors.btf.params:BTFParams"
BTF_PAPER = "Horwitz & Hoshen, Back to the Feature: Classical 3D Features are (Almost) All You Need, CVPRW 2023"
DEMO = {"n_centres": 128, "patch_size": 16, "max_nn": 32}


def register(registry: Registrar) -> None:
    common = {"modality": "pointcloud", "gpu": "optional", "params": _P, "reference": BTF_PAPER}
    registry.add(
        id="pointcloud.btf_fpfh", target=f"{_T}:BTFFPFH", **common, demo=True, demo_params=DEMO,
        summary="BTF: mean FPFH of farthest-point patches in a coreset memory bank (torch FPFH), scores per point",
    )
    registry.add(
        id="pointcloud.btf_raw", target=f"{_T}:BTFRaw", **common,
        summary="BTF: raw centred patch coordinates in a coreset memory bank, scores per point",
    )
    registry.add(
        id="pointcloud.btf", target=f"{_T}:BTF", **common,
        summary="BTF: raw coordinates and FPFH of each patch together in one memory bank, scores per point",
    )
