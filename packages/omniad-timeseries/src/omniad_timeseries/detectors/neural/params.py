"""Parameter models of the neural time-series detectors (pydantic only, no torch).

Registry cards point here so that ``omniad list`` / ``omniad show`` never import torch.
Defaults of the four TSB-AD ports are TSB-AD 1.5's (``HP_list.Optimal_Uni_algo_HP_dict``
plus the constructor defaults that ``model_wrapper.run_*`` leaves in place), so that a
default run is the run TSB-AD's leaderboard reports.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from omniad.params import Params

Normalize = Literal["zscore", "minmax", "none"]

_NORMALIZE_HELP = (
    "per-channel scaling fitted on the training series and applied to every scored series: "
    "zscore, minmax (to [0, 1]) or none (raw values, what TSB-AD 1.5 effectively feeds its "
    "CNN/LSTMAD/USAD because its dataset classes drop the scaling they compute)"
)


class TrainingParams(Params):
    """What every gradient-trained detector here shares."""

    epochs: int = Field(default=50, ge=1, description="maximum training epochs")
    batch_size: int = Field(default=128, ge=1)
    lr: float = Field(default=8e-4, gt=0, description="Adam learning rate")
    validation_size: float = Field(
        default=0.2, ge=0, lt=1,
        description="tail fraction of each training series held out for early stopping (0 = none)",
    )
    patience: int = Field(
        default=3, ge=1, description="epochs without improvement of the monitored loss before stopping"
    )
    normalize: Normalize = Field(default="zscore", description=_NORMALIZE_HELP)
    score_batch_size: int = Field(default=1024, ge=1, description="windows per forward pass when scoring")
    cpu_threads: int | None = Field(
        default=1, ge=1,
        description="torch intra-op threads while fitting/scoring on CPU (None = torch's setting); these "
        "networks are small, and more threads mostly wait on each other, badly so on a busy machine",
    )


class CNNParams(TrainingParams):
    """TSB-AD's CNN forecaster: conv stack over the past ``window`` steps predicts the next step."""

    window: int = Field(default=50, ge=4, description="past timesteps used to forecast the next one")
    num_channel: tuple[int, ...] = Field(
        default=(32, 32, 40), min_length=2,
        description="TSB-AD's channel list; the conv layers output num_channel[1:] (see docs/neural.md)",
    )
    kernel_size: int = Field(default=3, ge=1)
    dropout: float = Field(default=0.25, ge=0, lt=1)

    @model_validator(mode="after")
    def _window_fits_convs(self) -> CNNParams:
        length = self.window
        for _ in self.num_channel[1:]:
            length = (length - self.kernel_size + 1) // 2
            if length < 1:
                raise ValueError(
                    f"window {self.window} is too short for {len(self.num_channel) - 1} conv+pool "
                    f"layers of kernel {self.kernel_size}; use a longer window or fewer channels"
                )
        return self


class LSTMADParams(TrainingParams):
    """TSB-AD's LSTMAD: LSTM encoder-decoder forecasting the next step from ``window`` steps."""

    window: int = Field(default=100, ge=2)
    hidden_dim: int = Field(default=20, ge=1)
    num_layers: int = Field(default=2, ge=1)


class USADParams(TrainingParams):
    """USAD (Audibert et al., KDD 2020) as in TSB-AD: two adversarially trained decoders."""

    window: int = Field(default=100, ge=2)
    epochs: int = Field(default=10, ge=1)
    lr: float = Field(default=1e-3, gt=0, description="AdamW learning rate (weight decay 1e-5)")
    hidden_dim: int = Field(default=16, ge=1)
    latent_dim: int = Field(default=5, ge=1)
    alpha: float = Field(default=0.1, ge=0, description="weight of AE1's error in the score")
    beta: float = Field(default=0.9, ge=0, description="weight of AE2(AE1)'s error in the score")
    normalize: Normalize = Field(
        default="none",
        description="as TrainingParams; none by default = what TSB-AD 1.5 feeds USAD (its figures are "
        "reproduced exactly); 'minmax' is the USAD paper's choice for its sigmoid decoders",
    )


class AutoEncoderParams(TrainingParams):
    """TSB-AD's AutoEncoder (PyOD's design) over sliding windows."""

    window: int = Field(default=100, ge=2)
    hidden_neurons: tuple[int, ...] = Field(default=(128, 64), min_length=1)
    dropout: float = Field(default=0.2, ge=0, lt=1)
    batch_norm: bool = True
    weight_decay: float = Field(default=1e-5, ge=0)
    lr: float = Field(default=1e-3, gt=0)
    validation_size: float = Field(
        default=0.0, ge=0, lt=1, description="TSB-AD trains its AutoEncoder without a validation split"
    )
    window_minmax: bool = Field(
        default=True, description="scale each channel of each window to [0, 1] before standardising (TSB-AD)"
    )
    normalize: Normalize = Field(
        default="none", description="series-level scaling before windowing (TSB-AD: none)"
    )


class TransformerParams(TrainingParams):
    """Transformer autoencoder: encoder over a window, pooled bottleneck, decoder back to the window."""

    window: int = Field(default=100, ge=4)
    patch: int = Field(default=5, ge=1, description="timesteps per token (window must be a multiple)")
    d_model: int = Field(default=64, ge=4)
    n_heads: int = Field(default=4, ge=1)
    n_layers: int = Field(default=2, ge=1)
    dim_feedforward: int = Field(default=128, ge=4)
    latent_dim: int = Field(default=16, ge=1, description="bottleneck size (prevents learning the identity)")
    dropout: float = Field(default=0.1, ge=0, lt=1)
    epochs: int = Field(default=20, ge=1)
    lr: float = Field(default=1e-3, gt=0)
    train_stride: int = Field(default=1, ge=1, description="step between training windows")
    score_stride: int = Field(
        default=1, ge=1, description="step between scored windows; a timestep's score is the mean over covering windows"
    )

    @model_validator(mode="after")
    def _heads_divide(self) -> TransformerParams:
        if self.window % self.patch:
            raise ValueError(f"window ({self.window}) must be a multiple of patch ({self.patch})")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})")
        return self


class OracleADParams(TrainingParams):
    """OracleAD (Cho et al., NeurIPS 2025), implemented from the paper's description."""

    window: int = Field(default=32, ge=2, description="past timesteps each causal embedding sees")
    hidden_dim: int = Field(default=32, ge=2, description="LSTM hidden size")
    embed_dim: int = Field(default=32, ge=2, description="size of each variable's embedding")
    n_heads: int = Field(default=2, ge=1)
    id_dim: int = Field(default=4, ge=0, description="learned variable-identity features fed to the shared LSTM")
    lambda_recon: float = Field(default=1.0, ge=0, description="weight of the window reconstruction loss")
    lambda_dev: float = Field(default=0.1, ge=0, description="weight of the SLS deviation loss")
    structure_weight: float = Field(default=1.0, ge=0, description="weight of the SLS deviation in the score")
    sls_momentum: float = Field(default=0.9, ge=0, lt=1, description="EMA momentum of the SLS during training")
    epochs: int = Field(default=30, ge=1)
    lr: float = Field(default=1e-3, gt=0)
    batch_size: int = Field(default=64, ge=1)
    patience: int = Field(default=5, ge=1)

    @model_validator(mode="after")
    def _heads_divide(self) -> OracleADParams:
        if self.embed_dim % self.n_heads:
            raise ValueError(f"embed_dim ({self.embed_dim}) must be divisible by n_heads ({self.n_heads})")
        return self


class TimeRCDParams(TrainingParams):
    """TimeRCD-style detector: a Transformer that labels each timestep against its context."""

    weights: str | None = Field(
        default=None,
        description="local .safetensors written by tools/pretrain_timercd.py; None = train on the training split",
    )
    window: int = Field(default=256, ge=8, description="context length seen at once")
    patch: int = Field(default=8, ge=1, description="timesteps per token")
    d_model: int = Field(default=64, ge=4)
    n_heads: int = Field(default=4, ge=1)
    n_layers: int = Field(default=3, ge=1)
    dim_feedforward: int = Field(default=128, ge=4)
    dropout: float = Field(default=0.1, ge=0, lt=1)
    epochs: int = Field(
        default=20, ge=0, description="training epochs on the training split (0 with weights = zero-shot)"
    )
    lr: float = Field(default=1e-3, gt=0)
    batch_size: int = Field(default=32, ge=1)
    train_stride: int = Field(default=32, ge=1, description="step between training windows")
    score_stride: int = Field(default=64, ge=1, description="step between scored windows (overlaps are averaged)")
    anomaly_rate: float = Field(
        default=0.5, gt=0, le=1, description="share of training windows that get one injected anomaly"
    )
    copies: int = Field(default=4, ge=1, description="independently corrupted copies of each training window per epoch")
    normalize: Normalize = Field(
        default="none", description="no effect on the scores: every window is standardised by its own mean/std"
    )

    @model_validator(mode="after")
    def _shape_ok(self) -> TimeRCDParams:
        if self.window % self.patch or self.window < 2 * self.patch:
            raise ValueError(
                f"window ({self.window}) must be a multiple of patch ({self.patch}) and at least two patches"
            )
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})")
        return self
