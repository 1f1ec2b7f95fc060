"""Per-frame feature vectors for the one-class frame detectors.

Two extractors, because they answer different needs:

* ``features="pixels"`` (no dependency beyond torch): the frame downsampled to a small
  grayscale image plus its difference to the previous decoded frame. Appearance alone
  cannot show motion anomalies - a person running, a car going the wrong way looks like
  a normal frame - while the frame difference changes sign and size with direction and
  speed, so both are visible to a distance or density model. Cheap, so it is the demo
  and test path.
* ``features="vision:<timm name>"`` (``omniad-vision`` installed): global-average-pooled
  maps of chosen layers of an ImageNet backbone, the appearance features the
  frame-level kNN/Gaussian baselines use, plus their difference to the previous frame for
  the same motion reason. omniad-vision is an optional dependency of omniad-video, so it
  is imported only here, only when asked for.

Frames are converted chunk by chunk (``batch_size`` frames at a time), so memory is
bounded by the chunk and the (small) feature vectors, not by the video length.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from omniad.errors import DataError
from omniad.params import Params
from omniad_video.samples import FrameVideo
from omniad_video.vision_backbone import VISION_PREFIX, imagenet_normalised, vision_extractor


class FrameFeatureParams(Params):
    features: str = Field(
        default="pixels",
        description="'pixels' = downsampled grayscale frame + frame difference (no extra dependency); "
        "'vision:<timm name>' (e.g. 'vision:mobilenetv2_100') = pooled backbone features via omniad-vision",
    )
    pixel_size: int = Field(default=16, ge=2, description="side of the grayscale thumbnail (pixels features)")
    motion: bool = Field(
        default=True, description="append the difference to the previous decoded frame's features (motion)"
    )
    motion_weight: float = Field(default=2.0, ge=0, description="scale of the difference part of the vector")
    layers: tuple[str, ...] | None = Field(
        default=None,
        description="backbone layers to pool (vision features), shallow to deep (timm names or indices); "
        "None = the backbone's deepest levels at strides 8 and 16 (MobileNetV2: blocks.2, blocks.4; "
        "ResNets: layer2, layer3)",
    )
    weights: str = Field(
        default="imagenet",
        description="vision backbone weights: 'imagenet' (a local file found by omniad-vision, e.g. "
        "shared/weights), a .safetensors/.pth path, or 'random' (seeded random init)",
    )
    image_size: int = Field(default=128, ge=32, description="side frames are resized to for the backbone")
    batch_size: int = Field(default=32, ge=1, description="frames per chunk / forward pass")

    @field_validator("features")
    @classmethod
    def _check_features(cls, value: str) -> str:
        if value != "pixels" and not (value.startswith(VISION_PREFIX) and len(value) > len(VISION_PREFIX)):
            raise ValueError("use 'pixels' or 'vision:<timm model name>', e.g. 'vision:mobilenetv2_100'")
        return value

    @field_validator("weights", mode="before")
    @classmethod
    def _spell_random(cls, value: object) -> object:
        return "random" if value is None else value

    @field_validator("layers")
    @classmethod
    def _check_layers(cls, value: tuple[str, ...] | None, info: ValidationInfo) -> tuple[str, ...] | None:
        """Explicit layers must exist in the vision backbone; omniad-vision's table knows the common ones
        (torch-free), the others are checked when the backbone is built."""
        if value is not None and not value:
            raise ValueError("give at least one layer, or omit layers for the backbone's default")
        features = info.data.get("features", "")
        if value is None or not features.startswith(VISION_PREFIX):
            return value
        try:
            from omniad_vision.feature_levels import check_layers
        except ImportError:  # without omniad-vision, vision features fail at fit with the install hint
            return value
        check_layers(features[len(VISION_PREFIX):], value)
        return value


def check_videos(samples: Sequence[Any], where: str) -> list[FrameVideo]:
    """The samples as FrameVideo, or a DataError naming the first that is not one."""
    out = []
    for i, sample in enumerate(samples):
        if not isinstance(sample, FrameVideo):
            raise DataError(
                f"{where}: sample #{i} is a {type(sample).__name__}, not a FrameVideo; frame detectors take "
                "decoded videos (omniad_video.samples.FrameVideo, e.g. from video.files or video.frames); "
                "pre-extracted segment features need video.mil / video.rtfm"
            )
        out.append(sample)
    return out


class FrameFeaturizer:
    """Turns FrameVideos into ``(F_decoded, D)`` float32 arrays, one row per decoded frame."""

    def __init__(self, params: FrameFeatureParams, device: str, seed: int | None, where: str):
        self.params = params
        self.device = device
        self.where = where
        self.seed = seed
        self._extractor: Any = None

    @property
    def is_vision(self) -> bool:
        return self.params.features.startswith(VISION_PREFIX)

    def _vision(self) -> Any:
        if self._extractor is None:
            p = self.params
            self._extractor = vision_extractor(p.features, p.layers, p.weights, self.device, self.seed, self.where)
        return self._extractor

    def _chunk_pixels(self, frames: np.ndarray) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        x = torch.from_numpy(np.ascontiguousarray(frames)).to(self.device).permute(0, 3, 1, 2).float() / 255.0
        gray = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)
        side = self.params.pixel_size
        small = F.interpolate(gray, size=(side, side), mode="area")
        return small.flatten(1).cpu().numpy().astype(np.float32)

    def _chunk_vision(self, frames: np.ndarray) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        extractor = self._vision()
        x = torch.from_numpy(np.ascontiguousarray(frames)).to(self.device).permute(0, 3, 1, 2).float() / 255.0
        size = self.params.image_size
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        with torch.no_grad():
            maps = extractor(imagenet_normalised(x))
        return torch.cat([m.float().mean(dim=(2, 3)) for m in maps], dim=1).cpu().numpy().astype(np.float32)

    def video(self, video: FrameVideo) -> np.ndarray:
        """``(len(video.frames), D)`` features of one video."""
        chunk = self._chunk_vision if self.is_vision else self._chunk_pixels
        step = self.params.batch_size
        feats = np.concatenate([chunk(video.frames[i:i + step]) for i in range(0, len(video.frames), step)])
        if not self.params.motion:
            return feats
        diff = np.diff(feats, axis=0, prepend=feats[:1])
        if len(feats) > 1:
            diff[0] = diff[1]  # the first frame has no predecessor: take the motion of the next step
        return np.concatenate([feats, self.params.motion_weight * diff], axis=1)

    def videos(self, videos: Sequence[FrameVideo]) -> list[np.ndarray]:
        return [self.video(v) for v in videos]

    def provenance(self) -> dict[str, Any]:
        if not self.is_vision:
            return {"features": "pixels"}
        ext = self._vision()
        return {
            "features": self.params.features,
            "layers": list(ext.layer_names),
            "layers_from": "params" if self.params.layers is not None else "backbone default",
            "channels": list(getattr(ext, "channels", [])),
            "weights": self.params.weights,
        }
