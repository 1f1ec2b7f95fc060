"""Parameter models of the time-series datasets (pydantic only: cards point here).

Options shared by the file loaders are defined once (``ReadingParams``) so that missing
values, unordered timestamps and the train-prefix rule behave the same in every loader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from omniad.params import Params

Missing = Literal["reject", "interpolate", "drop"]
Order = Literal["check", "sort", "ignore"]
TrainRule = Literal["tsbad", "fraction", "probation", "none"]
AnomalyKind = Literal["point", "contextual", "collective", "level_shift", "trend", "seasonal"]
ANOMALY_KINDS: tuple[str, ...] = ("point", "contextual", "collective", "level_shift", "trend", "seasonal")

_MISSING_HELP = (
    "rows with a missing value: reject (DataError naming the file and row), interpolate "
    "(linear in row order, nearest value at the ends), or drop (remove the row and its label, "
    "what TSB-AD's loader does)"
)
_ORDER_HELP = (
    "timestamps that go backwards: check (DataError), sort (stable sort of the rows by time), "
    "ignore (keep file order). Duplicate timestamps are kept either way"
)
_NAB_ORDER_HELP = (
    "timestamps that go backwards: ignore (default: keep file order, as NAB and TSB-AD score the "
    "series; realKnownCause/machine_temperature_system_failure.csv has one), check (DataError), "
    "sort (stable sort of the rows by time). The count is in each subset's meta "
    "('timestamps_backwards')"
)
_TRAIN_HELP = (
    "how long the train prefix of each series is: tsbad (TSB-AD's rule, see docs/datasets.md), "
    "fraction (the first train_fraction of the series), probation (NAB's probationary "
    "period, the first 15%), none (no separate prefix: train = the whole series)"
)


class ReadingParams(Params):
    missing: Missing = Field(default="reject", description=_MISSING_HELP)
    order: Order = Field(default="check", description=_ORDER_HELP)


class TrainPrefixParams(Params):
    train: TrainRule = Field(default="tsbad", description=_TRAIN_HELP)
    train_fraction: float = Field(default=0.3, gt=0, lt=1, description="used by train='fraction'")


class NABParams(ReadingParams, TrainPrefixParams):
    """A published benchmark loads as its authors score it, so rows keep file order by default."""

    order: Order = Field(default="ignore", description=_NAB_ORDER_HELP)
    root: Path | None = Field(
        default=None,
        description="NAB checkout (holds data/ and labels/); default $OMNIAD_SHARED_DATA/data/nab",
    )
    categories: list[str] | None = Field(
        default=None, description="NAB categories (folders under data/), e.g. ['realTraffic']; default all"
    )
    series: list[str] | None = Field(
        default=None,
        description="file names or glob patterns (with or without category and .csv); default all",
    )
    include_unlabelled: bool = Field(
        default=False,
        description="also yield series without any labelled anomaly window (no detection metric "
        "is defined on them; excluded by default)",
    )
    labels_file: str = Field(default="labels/combined_windows.json", description="relative to root")


class TSBADParams(ReadingParams):
    path: Path = Field(description="a TSB-AD CSV file or a folder of them (TSB-AD-U / TSB-AD-M)")
    pattern: str = Field(default="*.csv", description="glob inside a folder")
    max_series: int | None = Field(default=None, ge=1, description="first N files (sorted by name)")


class UCRParams(ReadingParams):
    path: Path = Field(description="a UCR anomaly archive .txt file or a folder of them")
    pattern: str = Field(default="*.txt", description="glob inside a folder")
    max_series: int | None = Field(default=None, ge=1)


class SMDParams(Params):
    path: Path = Field(description="folder with train/, test/ and test_label/ (SMD layout)")
    machines: list[str] | None = Field(default=None, description="file stems, e.g. ['machine-1-1']; default all")
    delimiter: str = Field(default=",", description="value separator in the text files")
    missing: Missing = Field(default="reject", description=_MISSING_HELP)


class TelemanomParams(Params):
    path: Path = Field(
        description="folder with labeled_anomalies.csv, train/<chan_id>.npy and test/<chan_id>.npy "
        "(telemanom's data.zip layout)"
    )
    spacecraft: list[str] = Field(
        default_factory=lambda: ["SMAP", "MSL"], min_length=1,
        description="values of the CSV's spacecraft column to load (SMAP: 54 channels, MSL: 27)",
    )
    channels: list[str] | None = Field(
        default=None, description="chan_id values, e.g. ['P-1', 'M-6']; default every channel of the spacecraft"
    )
    features: Literal["all", "telemetry"] = Field(
        default="all",
        description="all = every column (the telemetry value and the one-hot commands: 25 for SMAP, 55 for "
        "MSL, as OmniAnomaly-style benchmarks use them); telemetry = column 0 only, the value telemanom "
        "predicts and its labels describe",
    )
    labels_file: str = Field(default="labeled_anomalies.csv", description="relative to path")
    missing: Missing = Field(default="reject", description=_MISSING_HELP)


class TableParams(ReadingParams, TrainPrefixParams):
    path: Path = Field(description="CSV or parquet file (or a folder of them) with one row per timestep")
    pattern: str = Field(default="*", description="glob inside a folder (csv/parquet files only)")
    split: Literal["prefix", "all"] = Field(
        default="prefix",
        description="prefix: one subset per file, train = its prefix by the 'train' rule, test = the whole series "
        "(benchmark protocol); all: every series is scored and the stretches not labelled anomalous are fitted "
        "on, a folder being one subset of its files (what `omniad fit / score / detect` use)",
    )
    label_column: str | None = Field(
        default="label",
        description="0/1 (or boolean) anomaly label per row; a file without the default 'label' column (or "
        "label_column=None) is unlabelled: metrics are skipped. A label column named here that is missing is an error",
    )
    timestamp_column: str | None = Field(
        default=None,
        description="time column (parsed as datetime, else numeric), not a channel; 'auto' = found by name "
        "(timestamp, time, datetime, date, ts) or as the first text column of dates (the default of "
        "`omniad fit / score`); None = no time column, rows are named by number",
    )
    min_segment: int = Field(
        default=100, ge=2,
        description="with split='all' on labelled files: normal stretches between labelled anomalies shorter than "
        "this are not fitted on (counted in the subset's meta)",
    )
    value_columns: list[str] | None = Field(
        default=None, description="channels to read; default every column except label and timestamp"
    )
    train_rows: int | None = Field(
        default=None, ge=1, description="fixed train-prefix length; overrides the 'train' rule"
    )


class BundledParams(Params):
    sources: list[Literal["sktime", "aeon"]] = Field(
        default_factory=lambda: ["sktime", "aeon"],
        description="packages whose wheels ship labelled series; those not installed are skipped",
    )
    train: TrainRule = Field(default="tsbad", description=_TRAIN_HELP)
    train_fraction: float = Field(default=0.3, gt=0, lt=1)


class SyntheticParams(Params):
    n_series: int = Field(default=3, ge=1, le=1000, description="subsets, one series each")
    length: int = Field(default=2000, ge=64, description="timesteps per series")
    n_channels: int = Field(default=1, ge=1, le=256)
    period: int = Field(default=50, ge=4, description="period of the seasonal pattern")
    noise: float = Field(default=0.1, ge=0, description="noise std relative to the pattern amplitude")
    train_length: int = Field(default=500, ge=0, description="anomaly-free prefix (the train split)")
    anomaly_types: list[AnomalyKind] = Field(
        default_factory=lambda: list(ANOMALY_KINDS), description="kinds to inject, cycled over the anomalies"
    )
    n_anomalies: int = Field(default=3, ge=1, le=100, description="anomalies per series")
    severity: int = Field(default=2, ge=1, le=3, description="1 subtle, 2 clear, 3 strong")
    mixed_severity: bool = Field(
        default=False, description="draw each anomaly's severity in 1..severity instead of fixing it"
    )
    seed: int = 0

    @field_validator("anomaly_types")
    @classmethod
    def _non_empty(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("give at least one anomaly type")
        return value

    @model_validator(mode="after")
    def _room(self) -> SyntheticParams:
        if self.train_length >= self.length - 2 * self.period:
            raise ValueError(
                f"train_length ({self.train_length}) leaves no room for anomalies in a series of "
                f"length {self.length}; lower train_length or raise length"
            )
        return self
