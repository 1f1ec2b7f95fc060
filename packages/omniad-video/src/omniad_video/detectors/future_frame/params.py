"""Parameters of video.future_frame (pydantic only: imported by discovery)."""

from __future__ import annotations

from pydantic import Field

from omniad_video.smoothing import SmoothingKind, SmoothingParams


class FutureFrameParams(SmoothingParams):
    n_context: int = Field(default=4, ge=1, description="t: past frames stacked as input (paper: 4)")
    frame_size: int = Field(default=64, ge=8, description="frames are resized to this square grayscale size")
    base_channels: int = Field(default=16, ge=4, description="channels of the first U-Net level (doubled per level)")
    depth: int = Field(default=3, ge=1, le=5, description="U-Net down-sampling levels (frame_size must divide 2**depth)")
    epochs: int = Field(default=10, ge=1, description="passes over the training windows")
    batch_size: int = Field(default=16, ge=1, description="windows per optimisation step")
    lr: float = Field(default=1e-3, gt=0, description="Adam learning rate (paper: 2e-4 on grayscale, 60k+ steps)")
    gradient_weight: float = Field(default=1.0, ge=0, description="weight of the gradient-difference loss (paper: 1)")
    max_windows: int = Field(default=20_000, ge=1, description="training windows kept per epoch (seeded subset)")
    normalize_per_video: bool = Field(
        default=False,
        description="the paper's min-max normalisation of PSNR within each test video; off by default because "
        "it uses the test video's own score range (every video then contains a 'most anomalous' frame)",
    )
    smoothing: SmoothingKind = Field(default="none", description="temporal smoothing of frame scores")
    score_batch_size: int = Field(default=64, ge=1, description="windows per forward pass when scoring")
