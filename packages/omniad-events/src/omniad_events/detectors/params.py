"""Parameter models of the event detectors (pydantic only: cards point here, no torch)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from omniad.params import Params

_BINS = (
    "quantile bins per numeric field when numbers are turned into entities (codes); fewer distinct "
    "training values give fewer bins, and below / above the training range and missing get codes of their own"
)
_THREADS = "torch threads on CPU; None keeps torch's default"
_NUMBERS = (
    "minmax = numbers min-max scaled to the training range; log = log1p of the distance from the training "
    "minimum, then scaled to the same range (heavy-tailed counts such as bytes spread out)"
)


class AVFParams(Params):
    n_bins: int = Field(default=10, ge=2, le=1000, description=_BINS)


class EmbeddedParams(Params):
    encoding: Literal["onehot", "frequency"] = Field(
        default="onehot",
        description="onehot = one column per entity value seen in training (unseen = all zeros) + numbers min-max "
        "scaled to the training range; frequency = each entity's training frequency + the same numbers",
    )
    numbers: Literal["minmax", "log"] = Field(default="minmax", description=_NUMBERS)
    detector: str = Field(
        default="core.knn",
        description="id of any registered tabular detector the encoded events go to (pyod.iforest, pyod.ecod, "
        "core.knn, ...)",
    )
    detector_params: dict[str, Any] = Field(default_factory=dict, description="parameters of that detector")


class APEModelParams(Params):
    """The entity-embedding model's parameters (APE's and CAR's content model)."""

    n_bins: int = Field(default=10, ge=2, le=1000, description=_BINS)
    dim: int = Field(default=32, ge=1, le=512, description="entity embedding dimension")
    negatives: int = Field(default=3, ge=1, le=64, description="noise events per observed event (NCE's k)")
    epochs: int = Field(default=10, ge=1, le=10_000)
    batch_size: int = Field(default=512, ge=1)
    lr: float = Field(default=0.01, gt=0)
    weight_decay: float = Field(default=0.0, ge=0, description="L2 on the embeddings (Adam weight decay)")
    objective: Literal["nce", "negative_sampling", "pseudo_likelihood"] = Field(
        default="pseudo_likelihood",
        description="nce = the paper's noise-contrastive estimation with the noise probability as correction; "
        "negative_sampling = the same noise without the correction (word2vec's simplification); "
        "pseudo_likelihood = the same model S fitted by the exact conditional of each field given the others "
        "(a softmax over the field's codes; no noise to sample)",
    )
    validation: float = Field(
        default=0.1,
        ge=0,
        lt=1,
        description="share of the training events held out to pick the epoch (lowest held-out loss) and stop "
        "early; 0 trains all epochs on everything",
    )
    patience: int = Field(
        default=3,
        ge=1,
        le=10_000,
        description="epochs without a better held-out loss before stopping (and at least min_steps // 4 updates, "
        "so that small data, one update per epoch, is not stopped by the noise of its first steps)",
    )
    unseen_noise: float = Field(
        default=0.05,
        ge=0,
        lt=1,
        description="share of the noise drawn from codes never seen in training (unseen values, numbers outside "
        "the training range), so the model learns that those are unlikely",
    )
    min_steps: int = Field(
        default=200, ge=1, description="at least this many updates (small data: more epochs)"
    )
    bias: bool = Field(
        default=True,
        description="add one learned bias per entity (log-frequency-like) to the pairwise interactions; "
        "False is the paper's model exactly",
    )
    average_epochs: int = Field(
        default=1,
        ge=1,
        le=100,
        description="keep the mean of the weights of this many consecutive epochs ending at the chosen one (the "
        "lowest held-out loss; the last epoch without held-out events) instead of that epoch's weights alone "
        "(averaging the end of the trajectory smooths the last updates' noise, as stochastic weight averaging "
        "does); 1 = the chosen epoch's weights",
    )
    cpu_threads: int | None = Field(default=None, ge=1, description=_THREADS)


class APEParams(APEModelParams):
    n_models: int = Field(
        default=1,
        ge=1,
        le=32,
        description="entity models fitted with different seeds (initialisation and batch order; the same "
        "held-out events) whose scores are averaged: each model's -S(e) is standardised by its mean and "
        "standard deviation on the held-out training events, then the mean is taken. One fit's ranking "
        "varies with its seed; the average lowers that variance. Fit and score time grow n_models-fold; "
        "1 = one model, scores exactly as before",
    )
    numeric_tails: bool = Field(
        default=True,
        description="add the numbers' own likelihood to the entity model's: per numeric field the two-sided "
        "empirical tail surprise of the raw value (bins cap what the entities see of an extreme value), summed "
        "over fields; both parts are turned into training tail surprises and added (score = their sum)",
    )


class CLANParams(Params):
    encoding: Literal["onehot", "frequency"] = Field(
        default="onehot", description="how events become vectors"
    )
    numbers: Literal["minmax", "log"] = Field(default="log", description=_NUMBERS)
    hidden: tuple[int, ...] = Field(default=(128,), description="hidden layer widths of the encoder MLP")
    rep_dim: int = Field(default=32, ge=2, le=1024, description="dimension of the learned (unit-norm) space")
    epochs: int = Field(default=10, ge=1, le=10_000)
    batch_size: int = Field(default=256, ge=2)
    lr: float = Field(default=1e-3, gt=0)
    temperature: float = Field(default=0.2, gt=0, le=10)
    mask_prob: float = Field(
        default=0.3,
        gt=0,
        lt=1,
        description="share of fields an augmented negative changes: each chosen field is shuffled across the "
        "batch, masked (zeroed) or, for numbers, given noise",
    )
    noise: float = Field(
        default=0.5, gt=0, description="standard deviation of the noise added to scaled numbers"
    )
    n_neighbors: int = Field(
        default=5, ge=1, description="k: score = mean cosine distance to the k nearest training events"
    )
    numeric_tails: bool = Field(
        default=False,
        description="add the numbers' own likelihood (per field, the two-sided empirical tail surprise of the raw "
        "value, summed) to the neighbour distance; both are turned into training tail surprises (the distance "
        "leave-one-out) and added",
    )
    representation: Literal["projection", "hidden"] = Field(
        default="hidden",
        description="space the neighbours are found in: projection = the contrastive output (rep_dim); hidden = "
        "the last hidden layer before it (unit-normalised), the usual choice for downstream use of a "
        "contrastive encoder (SimCLR's projection head discards what the loss does not need)",
    )
    max_bank: int = Field(
        default=20_000, ge=1, description="training events kept as neighbours (a seeded sample)"
    )
    cpu_threads: int | None = Field(default=None, ge=1, description=_THREADS)


class CARParams(APEModelParams):
    """CAR's own parameters; the content model's (``dim``, ``epochs``, ``objective``, ...) are APE's."""

    sequence_fields: list[str] | None = Field(
        default=None,
        description="entity fields whose order within a sequence is modelled, one context tree each (the alert "
        "type: e.g. ['service']); also the tokens of the reported patterns. None = every entity field",
    )
    depth: int = Field(
        default=3, ge=1, le=12, description="longest context (preceding events) of the context tree"
    )
    min_count: int = Field(
        default=2, ge=1, description="a context becomes a node after this many training events"
    )
    discount: float = Field(
        default=0.5, ge=0, lt=1, description="Pitman-Yor discount of the tree's smoothing"
    )
    strength: float = Field(
        default=1.0, gt=0, description="Pitman-Yor strength (concentration) of the smoothing"
    )
    window_quantiles: list[float] = Field(
        default=[0.05, 0.5],
        min_length=1,
        description="burst windows: these quantiles of the training gaps between consecutive events of a sequence; "
        "per window, the events of the same sequence within it are counted (bursts of any speed)",
    )
    components: list[Literal["order", "rhythm", "content"]] = Field(
        default=["order", "rhythm", "content"],
        min_length=1,
        description="order = context-tree surprise of the sequence fields; rhythm = burst counts against training; "
        "content = APE's entity-embedding likelihood of the event's fields; the score adds their calibrated "
        "surprises",
    )
    key: str | None = Field(
        default=None,
        description="field holding the sequence key when the events carry none (dicts, DataFrames); not a feature",
    )
    time: str | None = Field(
        default=None,
        description="field holding the timestamp (seconds, datetime or ISO text) when the events carry none; "
        "not a feature",
    )
    pattern_quantile: float = Field(
        default=0.99,
        gt=0,
        lt=1,
        description="an event is high-ranked (part of a reported pattern) above this quantile of the training scores",
    )
    n_patterns: int = Field(
        default=10, ge=0, le=1000, description="patterns reported after scoring (provenance)"
    )
    n_sequences: int = Field(default=20, ge=0, le=10_000, description="top sequences reported after scoring")
