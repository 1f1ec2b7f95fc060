"""Pretrained CNN backbones as frozen multi-layer feature extractors (timm), with local weights.

Public API for every vision detector::

    from omniad_vision.backbones import create_feature_extractor
    fx = create_feature_extractor("mobilenetv2_100", ["blocks.2", "blocks.4"],
                                  weights="/path/torchvision_mobilenet_v2_imagenet.safetensors")
    maps = fx(batch)          # list of (B, C_i, H_i, W_i)

Importing this package imports torch and timm; card and params modules must not import it.
"""

from omniad_vision.backbones.extractor import (
    FeatureExtractor,
    check_model_name,
    create_feature_extractor,
    resolve_layers,
)
from omniad_vision.backbones.weights import find_local_imagenet, load_state, read_weight_file
from omniad_vision.detectors.image_params import IMAGENET_MEAN, IMAGENET_STD

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "FeatureExtractor",
    "check_model_name",
    "create_feature_extractor",
    "find_local_imagenet",
    "load_state",
    "read_weight_file",
    "resolve_layers",
]
