"""Parameter models of the text detectors (pydantic only: cards point here, no torch).

Every detector nests the embedding it runs on as ``embedding`` (an ``EmbeddingParams``), so
a grid over ``embedding = [{...}, {...}]`` times detectors is the Text-ADBench grid, and a
saved model names the embedding it needs. Defaults follow PyOD's where a detector has a
PyOD counterpart, so the BBC table compares like with like.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from omniad.params import Params
from omniad_text.embeddings.params import EmbeddingParams

_EMBEDDING = "the text embedding the detector runs on (model, pooling, normalisation, cache)"


class EmbeddedParams(Params):
    """Base of every text detector's parameters: the embedding."""

    embedding: EmbeddingParams = Field(default_factory=EmbeddingParams, description=_EMBEDDING)


class KNNParams(EmbeddedParams):
    n_neighbors: int = Field(default=5, ge=1, description="k (PyOD's default 5)")
    method: Literal["largest", "mean"] = Field(
        default="largest", description="score = distance to the k-th neighbour (largest) or mean of the k distances"
    )
    metric: Literal["cosine", "euclidean"] = Field(
        default="cosine", description="cosine distance suits sentence embeddings (on L2-normalised ones it ranks as euclidean)"
    )


class LOFParams(EmbeddedParams):
    n_neighbors: int = Field(default=20, ge=1, description="neighbourhood size (PyOD's and scikit-learn's default 20)")
    metric: Literal["cosine", "euclidean"] = Field(default="euclidean", description="distance between embeddings")


class IForestParams(EmbeddedParams):
    n_estimators: int = Field(default=100, ge=1)
    max_samples: Literal["auto"] | int | float = Field(default="auto", description="scikit-learn's max_samples")
    max_features: float = Field(default=1.0, gt=0, le=1, description="share of embedding dimensions per tree")


class OCSVMParams(EmbeddedParams):
    kernel: Literal["rbf", "linear", "poly", "sigmoid"] = "rbf"
    nu: float = Field(default=0.5, gt=0, le=1, description="upper bound on the share of training errors (PyOD's 0.5)")
    gamma: Literal["scale", "auto"] | float = Field(
        default="scale",
        description="kernel coefficient; 'scale' = 1/(dimensions x variance of the embeddings), scikit-learn's "
        "default; 'auto' = 1/dimensions (PyOD's), which on unit-length embeddings (per-dimension variance "
        "~1/d) makes the RBF kernel almost linear",
    )


class MahalanobisParams(EmbeddedParams):
    covariance: Literal["ledoit_wolf", "empirical"] = Field(
        default="ledoit_wolf",
        description="ledoit_wolf = scikit-learn's shrunk covariance (a few hundred texts in 384+ dimensions make the "
        "empirical one near-singular); empirical = pseudo-inverse of the sample covariance",
    )


class ECODParams(EmbeddedParams):
    pass


class PCAParams(EmbeddedParams):
    n_components: int | float = Field(
        default=0.9, gt=0,
        description="principal components spanning the normal texts: an int, or the share of variance to keep in (0, 1)",
    )
    whiten_residual: bool = Field(
        default=False, description="False: score = squared reconstruction error; True: also add the whitened "
        "distance within the kept components (Hotelling T^2)",
    )


class DeepSVDDParams(EmbeddedParams):
    hidden: tuple[int, ...] = Field(default=(128,), description="widths of the hidden layers (bias-free, LeakyReLU)")
    rep_dim: int = Field(default=32, ge=2, le=4096, description="dimension of the output space holding the sphere")
    epochs: int = Field(default=50, ge=1)
    batch_size: int = Field(default=64, ge=1)
    lr: float = Field(default=1e-3, gt=0)
    weight_decay: float = Field(default=1e-6, ge=0)
    cpu_threads: int | None = Field(default=None, ge=1, description="torch threads on CPU; None keeps torch's default")


class EmbeddedDetectorParams(EmbeddedParams):
    detector: str = Field(
        default="core.knn",
        description="id of any registered tabular detector the embeddings go to (pyod.ecod, pyod.ocsvm, core.knn, ...)",
    )
    detector_params: dict[str, Any] = Field(default_factory=dict, description="parameters of that detector")


class CVDDParams(EmbeddedParams):
    tokens: Literal["contextual", "static"] = Field(
        default="contextual",
        description="token vectors: contextual = the encoder's last hidden states (one forward pass per text); "
        "static = its input embedding table without stop words (the paper's GloVe role; scores long anomalies as "
        "normal: BBC snippets AUROC 0.30 vs 0.80 contextual)",
    )
    n_contexts: int = Field(default=3, ge=1, le=32, description="context vectors (attention heads), r in Ruff et al.")
    attention_size: int = Field(default=64, ge=2, le=1024, description="hidden size of the self-attention")
    max_tokens: int = Field(default=128, ge=4, le=4096, description="tokens kept per text, special tokens included")
    epochs: int = Field(default=30, ge=1)
    batch_size: int = Field(default=64, ge=1)
    lr: float = Field(
        default=1e-3, gt=0,
        description="Adam step size (the authors' default); 1e-2 let the heads drift to words every text has "
        "(BBC snippets AUROC 0.55 vs 0.72 at 1e-3)",
    )
    weight_decay: float = Field(default=5e-7, ge=0)
    orthogonality: float = Field(
        default=1.0, ge=0, description="weight of the penalty mean((C C^T - I)^2) that keeps the contexts apart "
        "(the authors' lambda_p)",
    )
    cpu_threads: int | None = Field(default=None, ge=1, description="torch threads on CPU; None keeps torch's default")
