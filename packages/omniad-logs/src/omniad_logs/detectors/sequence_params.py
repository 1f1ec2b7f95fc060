"""Parameter models of the sequence detectors (pydantic only: cards point here, no torch).

Defaults follow logdeep's HDFS settings where the paper leaves them open (window 10, top-g
9, 2-layer LSTM of 64 units); epochs are lower than logdeep's 300/370 because identical
windows are trained once with their count as loss weight (``sequence_training``), which
makes one epoch here worth a full pass over all windows at a fraction of the cost.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from omniad.params import Params

SemanticSource = Literal["auto", "vocabulary", "text", "hashed"]


class SequenceTrainingParams(Params):
    """What every gradient-trained sequence detector here shares."""

    epochs: int = Field(default=30, ge=1, description="maximum training epochs")
    batch_size: int = Field(default=256, ge=1, description="distinct training windows per step")
    lr: float = Field(default=2e-3, gt=0, description="Adam learning rate")
    min_steps_per_epoch: int = Field(
        default=10, ge=1,
        description="an epoch repeats passes over the distinct training windows until it made this many steps "
        "(small data has few distinct windows: one pass can be a single step)",
    )
    validation_size: float = Field(
        default=0.1, ge=0, lt=1,
        description="seeded share of the training sessions held out for early stopping (0 = none: all epochs run)",
    )
    patience: int = Field(default=4, ge=1, description="epochs without validation improvement before stopping")
    score_batch_size: int = Field(default=4096, ge=1, description="windows per forward pass when scoring")
    cpu_threads: int | None = Field(
        default=1, ge=1,
        description="torch intra-op threads on CPU (None = torch's setting); small recurrent nets gain "
        "little from more threads, and lose on a busy machine",
    )


class NextEventParams(SequenceTrainingParams):
    """The DeepLog-style next-event models: window, top-g decision and session end marker."""

    window: int = Field(default=10, ge=1, le=10_000, description="h: events of context before the predicted one")
    top_g: int | Literal["auto"] = Field(
        default="auto",
        description="g: a line is anomalous when its event is not among the g most likely next events; auto = "
        "the smallest g that flags at most normal_flag_rate of the held-out normal validation sessions "
        "(the training sessions when validation_size=0). DeepLog's g=9 was tuned on HDFS with 29 predictable "
        "events; a model that knows fewer events needs a smaller g",
    )
    normal_flag_rate: float = Field(
        default=0.02, ge=0, lt=1,
        description="top_g='auto': the share of held-out normal sessions g may flag (see docs/detectors-sequence.md "
        "for why 2%)",
    )
    end_marker: bool = Field(
        default=True,
        description="also predict an end-of-session event after the last line (logdeep has none): a session "
        "that stops where normal ones never stop misses the top-g rule at its last line",
    )


class DeepLogParams(NextEventParams):
    hidden_size: int = Field(default=64, ge=1, description="LSTM units per layer")
    num_layers: int = Field(default=2, ge=1, description="stacked LSTM layers")
    embedding_dim: int = Field(default=32, ge=1, description="size of the learned event embedding (DeepLog: one-hot)")


class SemanticParams(Params):
    semantic_source: SemanticSource = Field(
        default="auto",
        description="event vectors: vocabulary (EventVocabulary.vectors, e.g. event2semantic_vec.json), text "
        "(template embeddings from omniad-text), hashed (deterministic hashed bag of template tokens); "
        "auto = the first of these that is available",
    )
    semantic_dim: int = Field(default=64, ge=4, description="size of the hashed fallback vectors")


class LogAnomalyParams(NextEventParams, SemanticParams):
    hidden_size: int = Field(default=64, ge=1, description="units of each of the two LSTMs")
    num_layers: int = Field(default=2, ge=1)


class TransformerParams(NextEventParams):
    d_model: int = Field(default=64, ge=8, description="model width (a multiple of n_heads)")
    n_heads: int = Field(default=4, ge=1)
    n_layers: int = Field(default=2, ge=1)
    dim_feedforward: int = Field(default=128, ge=8)
    dropout: float = Field(default=0.1, ge=0, lt=1)

    @model_validator(mode="after")
    def _heads_divide_width(self) -> TransformerParams:
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model={self.d_model} is not a multiple of n_heads={self.n_heads}; change either")
        return self


class LogRobustParams(SequenceTrainingParams, SemanticParams):
    hidden_size: int = Field(default=64, ge=1, description="units per direction of the Bi-LSTM")
    num_layers: int = Field(default=2, ge=1)
    max_length: int = Field(
        default=300, ge=1, description="longer sessions are cut to their first max_length lines (counted)"
    )
    epochs: int = Field(default=20, ge=1, description="maximum training epochs")
    batch_size: int = Field(default=128, ge=1, description="sessions per step")
    score_batch_size: int = Field(default=512, ge=1, description="sessions per forward pass when scoring")
    decision_threshold: float = Field(
        default=0.5, gt=0, lt=1, description="a session is anomalous when P(anomalous) exceeds this (LogRobust: 0.5)"
    )
