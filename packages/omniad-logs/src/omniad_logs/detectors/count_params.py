"""Parameter models of the count-vector and graph detectors (pydantic only: cards point here).

Defaults are loglizer's (He et al., ISSRE 2016; the published HDFS numbers of PCA,
invariant mining and log clustering were measured with it), except the IDF: ``tfidf`` is
scikit-learn's smooth IDF, loglizer's is ``tfidf_loglizer`` (why: ``features.py``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from omniad.params import Params

_WEIGHTING = (
    "count = raw event counts; tfidf = counts times the smooth IDF log((1+N)/(1+df)) + 1 over the N training "
    "sessions; tfidf_loglizer = loglizer's log(N/df), which is 0 for events in every session"
)
_NORMALIZATION = "none; zero_mean = subtract the training mean per event; l2 = scale each session vector to unit length"
Weighting = Literal["count", "tfidf", "tfidf_loglizer"]
Normalization = Literal["none", "zero_mean", "l2"]
Backend = Literal["auto", "pyod", "sklearn"]
_BACKEND = (
    "auto = omniad-pyod's detector when omniad-pyod is installed, else scikit-learn's; pyod / sklearn "
    "force one (the one used is saved with the model as backend_)"
)


class RandomParams(Params):
    pass


class PCAParams(Params):
    weighting: Weighting = Field(default="tfidf", description=_WEIGHTING)
    normalization: Normalization = Field(default="zero_mean", description=_NORMALIZATION)
    n_components: int | float = Field(
        default=0.95, gt=0,
        description="principal components spanning the normal space: an int, or the share of variance to keep in (0, 1)",
    )
    confidence: float = Field(
        default=0.9995, gt=0.5, lt=1,
        description="confidence of the Q-statistic threshold (Jackson & Mudholkar 1979); loglizer's c_alpha 3.2905 = 0.9995",
    )


class InvariantMiningParams(Params):
    percentage: float = Field(
        default=0.98, gt=0.5, le=1,
        description="share of training sessions an invariant must hold on to be kept (loglizer's 0.98)",
    )
    epsilon: float = Field(
        default=0.5, gt=0,
        description="singular values of X^T X below this count as zero when estimating how many invariants exist",
    )
    max_length: int = Field(default=3, ge=1, le=4, description="most events one invariant may relate")
    max_coefficient: int = Field(
        default=10, ge=1, description="largest integer coefficient of an invariant (Lou et al. search small integers)"
    )


class LogClusteringParams(Params):
    weighting: Weighting = Field(default="tfidf", description=_WEIGHTING)
    normalization: Normalization = Field(default="none", description=_NORMALIZATION)
    max_dist: float = Field(
        default=0.3, gt=0, le=1, description="cosine distance that joins a session to a cluster (loglizer's 0.3)"
    )
    anomaly_threshold: float = Field(
        default=0.3, gt=0, le=1,
        description="cosine distance to the nearest normal cluster above which a session is anomalous (loglizer's 0.3)",
    )
    num_bootstrap_samples: int = Field(
        default=1000, ge=2,
        description="sessions clustered hierarchically (complete linkage) before the rest join online",
    )


class CountsParams(Params):
    detector: str = Field(
        default="core.knn",
        description="id of any registered tabular detector the session vectors go to (pyod.iforest, core.knn, ...)",
    )
    detector_params: dict[str, Any] = Field(default_factory=dict, description="parameters of that detector")
    weighting: Weighting = Field(default="count", description=_WEIGHTING)
    normalization: Normalization = Field(default="none", description=_NORMALIZATION)


class IForestParams(Params):
    backend: Backend = Field(default="auto", description=_BACKEND)
    n_estimators: int = Field(default=100, ge=1)
    max_samples: Literal["auto"] | int | float = Field(default="auto", description="scikit-learn's max_samples")
    max_features: float = Field(default=1.0, gt=0, le=1, description="share of event columns per tree")
    weighting: Weighting = Field(default="count", description=_WEIGHTING)
    normalization: Normalization = Field(default="none", description=_NORMALIZATION)


class OCSVMParams(Params):
    backend: Backend = Field(default="auto", description=_BACKEND)
    kernel: Literal["rbf", "linear", "poly", "sigmoid"] = "rbf"
    nu: float = Field(default=0.5, gt=0, le=1, description="upper bound on the share of training errors")
    gamma: Literal["scale", "auto"] | float = Field(default="scale", description="kernel coefficient")
    weighting: Weighting = Field(default="tfidf", description=_WEIGHTING)
    normalization: Normalization = Field(default="l2", description=_NORMALIZATION)


class GLADParams(Params):
    hidden: int = Field(default=32, ge=2, le=512, description="width of node and graph embeddings")
    layers: int = Field(default=2, ge=1, le=6, description="message-passing rounds")
    readout: Literal["mean", "sum"] = Field(
        default="sum",
        description="how node embeddings become the graph embedding; sum keeps the session's size (as in GIN, Xu et al. "
        "2019) and was steadier on hdfs_sessions (AUROC 0.998 on seeds 0-1 vs 0.78 / 0.99 with mean)",
    )
    epochs: int = Field(default=30, ge=1)
    batch_size: int = Field(default=64, ge=1, description="graphs per step")
    lr: float = Field(default=1e-3, gt=0)
    weight_decay: float = Field(default=1e-5, ge=0)
    use_parameters: bool = Field(
        default=True,
        description="add entity nodes for the parameters of each line (when sessions have them); False = events only",
    )
    quantile: float = Field(
        default=0.99, gt=0, lt=1,
        description="decision threshold = this quantile of the training graphs' Deep SVDD distances",
    )
    cpu_threads: int | None = Field(default=1, ge=1, description="torch threads on CPU (small graphs: 1 is fastest)")
