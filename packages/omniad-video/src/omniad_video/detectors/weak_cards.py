"""Registry cards for the weakly supervised feature detectors (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar

_D = "omniad_video.detectors"


def register(registry: Registrar) -> None:
    common = {"modality": "video", "gpu": "optional", "sample_kind": "features", "tags": ("weakly-supervised",)}
    registry.add(
        id="video.mil", target=f"{_D}.mil.detector:MIL", params=f"{_D}.mil.params:MILParams", **common,
        reference="Sultani, Chen & Shah, Real-world Anomaly Detection in Surveillance Videos, CVPR 2018",
        summary="MIL ranking: a segment scorer trained on video labels (hinge on bag maxima + smoothness + sparsity)",
        demo=True, demo_params={"iterations": 100, "hidden": [64, 16], "batch_size": 8, "optimizer": "adam"},
    )
    registry.add(
        id="video.rtfm", target=f"{_D}.rtfm.detector:RTFM", params=f"{_D}.rtfm.params:RTFMParams", **common,
        reference="Tian et al., Weakly-supervised Video Anomaly Detection with Robust Temporal Feature "
        "Magnitude Learning, ICCV 2021",
        summary="RTFM-style: top-k feature magnitudes with a margin between anomalous and normal videos, "
        "top-k classifier; simplified temporal block",
        demo=True, demo_params={"iterations": 40, "hidden": 64, "batch_size": 8},
    )
