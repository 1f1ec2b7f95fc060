"""INP-Former parameters (pydantic only: imported by discovery)."""

from __future__ import annotations

from pydantic import Field, model_validator

from omniad_vision.detectors.foundation_params import VIT_LAYERS_HELP, FoundationParams


class Params(FoundationParams):
    layers: tuple[str, ...] | None = Field(
        default=tuple(f"blocks.{i}" for i in range(2, 10)),
        description=VIT_LAYERS_HELP.replace("each L2-normalised per patch, then concatenated",
                                            "whose tokens are averaged into the decoder input and reconstructed")
        + "; default: the paper's middle eight blocks 2..9",
    )
    groups: int = Field(default=2, ge=1, description="consecutive layers averaged into each compared feature (paper: 2)")
    num_prototypes: int = Field(default=6, ge=1, description="M: intrinsic normal prototypes (learnable INP tokens)")
    decoder_depth: int = Field(
        default=4, ge=1, description="INP-guided decoder blocks, split in order over the groups (paper: 8; 4 on CPU)"
    )
    heads: int = Field(default=6, ge=1, description="attention heads of the INP extractor and decoder")
    mlp_ratio: float = Field(default=2.0, gt=0, description="MLP hidden width / token width (paper: 4; 2 on CPU)")
    bottleneck_dropout: float = Field(default=0.2, ge=0, lt=1, description="dropout of the bottleneck MLP")
    coherence_weight: float = Field(
        default=0.2, ge=0, description="lambda of the INP coherence loss (each token near its closest INP)"
    )
    mining_gamma: float = Field(
        default=3.0, ge=0, description="soft mining loss: per-token cosine distance weighted by (d / max d)^gamma; 0 = plain mean"
    )
    train_steps: int = Field(default=300, ge=1, description="optimizer steps (the paper trains far longer on a GPU)")
    train_batch_size: int = Field(default=4, ge=1, description="images per optimizer step")
    lr: float = Field(default=1e-3, gt=0, description="AdamW learning rate (cosine decay to 1/10)")
    weight_decay: float = Field(default=1e-4, ge=0)
    feature_cache_mb: int = Field(
        default=1024, ge=0,
        description="keep the frozen encoder's tokens of the training images in memory up to this size; beyond, "
        "each step encodes its batch again",
    )
    top_fraction: float = Field(default=0.01, gt=0, le=1, description="image score = mean of this top share of the map")
    blur_sigma: float = Field(default=4.0, ge=0, description="Gaussian blur of the map, in pixels at image_size")

    @model_validator(mode="after")
    def _check_groups(self) -> Params:
        n = len(self.layers) if self.layers is not None else 1
        if self.groups > n or self.groups > self.decoder_depth:
            raise ValueError(f"groups={self.groups} needs at least as many layers ({n}) and decoder blocks "
                             f"({self.decoder_depth})")
        return self
