"""Parameter models of the event datasets (pydantic only: cards point here)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from omniad.params import Params


class NSLKDDParams(Params):
    root: Path | None = Field(
        default=None,
        description="folder holding KDDTrain+_20Percent.txt, KDDTest+.txt, KDDTest-21.txt; default "
        "$OMNIAD_SHARED_DATA/data/nsl_kdd",
    )
    subsets: list[Literal["KDDTest+", "KDDTest-21"]] = Field(
        default=["KDDTest+", "KDDTest-21"], min_length=1, description="test files scored, one subset each"
    )
    entities: list[str] = Field(
        default=["protocol_type", "service", "flag"],
        description="features read as entity types; every other feature is numeric",
    )
    max_train: int | None = Field(
        default=None, ge=2, description="a seeded sample of the normal training rows (quick runs)"
    )
    max_test: int | None = Field(
        default=None, ge=2, description="a seeded sample of each test file (quick runs)"
    )
    seed: int = Field(default=0, description="seed of the samples above")


class SyntheticParams(Params):
    n_train: int = Field(default=400, ge=2)
    n_test_normal: int = Field(default=100, ge=1)
    n_test_anomalous: int = Field(default=40, ge=4, description="split evenly over the four anomaly kinds")
    burst_size: int = Field(
        default=4, ge=2, le=100, description="events in one burst (a user's session firing within seconds)"
    )
    n_users: int = Field(default=24, ge=4, le=1000)
    n_groups: int = Field(
        default=4, ge=2, le=50, description="departments: each has its own hosts and services"
    )
    seed: int = Field(default=0)


class TableParams(Params):
    path: Path | None = Field(default=None, description="a CSV, TSV or parquet table of events, one per row")
    format: Literal["auto", "csv", "tsv", "parquet"] = Field(
        default="auto", description="auto = from the suffix"
    )
    delimiter: str | None = Field(
        default=None, max_length=1, description="csv/tsv separator; None = ',' / tab"
    )
    columns: list[str] | None = Field(
        default=None,
        min_length=1,
        description="names of the columns of a headerless csv/tsv (its first line is data)",
    )
    entity_columns: list[str] | None = Field(
        default=None,
        description="columns that are entity types; None = every column whose cells are not all numbers (except "
        "label, time, key and id)",
    )
    numeric_columns: list[str] | None = Field(
        default=None, description="numeric columns; None = every other column whose cells are numbers"
    )
    label_column: str | None = Field(
        default=None,
        description="per row: 0/1 (true/false, normal/anomaly), or a name with normal_labels; with "
        "split='all' optional, and a column named 'label' is used when there is one",
    )
    normal_labels: list[str] | None = Field(
        default=None,
        description="values of label_column that are normal (e.g. ['BENIGN']); all others are anomalies; kept "
        "per row as the category for events.category_recall. None: a column of class names with one named "
        "normal or benign (any case) is read so, and said",
    )
    time_column: str | None = Field(default=None, description="a timestamp per event (kept, not a feature)")
    key_column: str | None = Field(
        default=None, description="sequence key per event (session, user; not a feature)"
    )
    id_column: str | None = Field(default=None, description="names each row in reports; default row-<n>")
    split: Literal["random", "all"] = Field(
        default="random",
        description="random: a seeded train_fraction of the normal rows trains, the rest and the anomalies test "
        "(needs labels); all: every row is scored and those not labelled anomalous train (own data)",
    )
    train_fraction: float = Field(default=0.7, gt=0, lt=1)
    seed: int = Field(default=0)

    @model_validator(mode="after")
    def _labels(self) -> TableParams:
        if self.split == "random" and self.label_column is None:
            raise ValueError(
                "split='random' needs label_column (which rows are anomalous); unlabelled events need "
                "split='all'"
            )
        return self

    @field_validator("label_column", "time_column", "key_column", "id_column", mode="after")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        """Column names are read without surrounding spaces (CIC-IDS writes `` Label``), so are these."""
        return None if value is None else value.strip()

    @field_validator("entity_columns", "numeric_columns", "columns", mode="after")
    @classmethod
    def _names(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [v.strip() for v in value]
