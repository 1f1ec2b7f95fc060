"""The one place omniad-video builds an omniad-vision backbone (an optional dependency).

Whole frames (``video.frame_knn`` / ``video.frame_gaussian`` with ``features="vision:..."``)
and crops of moving regions (``video.cell_knn`` with ``region_features``) go through the
same frozen, seeded extractor and the same ImageNet normalisation, so the install hint, the
seeding of random weights and the default layers are written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omniad.errors import ConfigError

VISION_PREFIX = "vision:"
#: strides of the backbone levels pooled when no layers are given (MobileNetV2: blocks.2, blocks.4)
DEFAULT_STRIDES = (8, 16)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def import_vision(where: str, option: str = "features", instead: str = "use features='pixels'") -> Any:
    """omniad-vision's extractor module, or a ConfigError with the install line and the alternative."""
    try:
        from omniad_vision.backbones import extractor
    except ImportError:
        raise ConfigError(
            f"{where}: {option}='vision:...' needs the optional omniad-vision package; "
            f"`pip install omniad-vision`, or {instead}"
        ) from None
    return extractor


def vision_extractor(spec: str, layers: Sequence[str] | None, weights: str, device: str, seed: int | None,
                     where: str, option: str = "features", instead: str = "use features='pixels'") -> Any:
    """A frozen extractor for ``spec`` = ``"vision:<timm name>"``; a random-weight backbone is seeded so
    that a loaded detector rebuilds the same network."""
    import torch

    module = import_vision(where, option, instead)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0 if seed is None else int(seed))
        return module.create_feature_extractor(
            spec[len(VISION_PREFIX):], None if layers is None else list(layers), weights=weights, device=device,
            where=where, default_strides=DEFAULT_STRIDES,
        )


def imagenet_normalised(x: Any) -> Any:
    """``(B, 3, H, W)`` float in ``[0, 1]`` normalised with the ImageNet mean and std the backbones expect."""
    import torch

    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std
