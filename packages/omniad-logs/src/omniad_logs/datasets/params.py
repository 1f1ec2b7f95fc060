"""Parameter models of the log datasets (pydantic only: cards point here).

Options shared by several loaders are defined once (reading, parsing, windows, the
train/test rule) so that a 10 MB line, a Latin-1 file or a sliding window behave the same
in every loader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from omniad.params import Params
from omniad_logs.datasets.reading import check_encoding

AnomalyKind = Literal["unseen_template", "broken_order", "burst", "missing_step", "odd_parameter"]
ANOMALY_KINDS: tuple[str, ...] = ("unseen_template", "broken_order", "burst", "missing_step", "odd_parameter")


class ReadingParams(Params):
    encoding: str = Field(
        default="utf-8",
        description="text encoding of the log; bytes that do not decode are replaced (U+FFFD) and counted",
    )
    max_line_chars: int = Field(
        default=100_000, ge=80, description="longer lines are truncated to this many characters (and counted)"
    )

    @field_validator("encoding")
    @classmethod
    def _codec(cls, value: str) -> str:
        return check_encoding(value)


class ParseParams(Params):
    events: Literal["parse", "ground_truth"] = Field(
        default="parse",
        description="parse: event ids from omniad's TemplateMiner over the message contents; ground_truth: "
        "the EventId column of loghub's <log>_structured.csv (one row per raw line)",
    )
    structured: Path | None = Field(
        default=None, description="ground-truth CSV for events='ground_truth'; default <log file>_structured.csv"
    )


class SplitParams(Params):
    train_fraction: float = Field(
        default=0.5, gt=0, lt=1, description="share of the normal sessions/windows that form the train split"
    )
    split: Literal["chronological", "random", "all"] = Field(
        default="chronological",
        description="chronological: train = normal windows among the first train_fraction of windows in "
        "time order (anomalous ones there go to test); random: a seeded train_fraction of all normal sessions; "
        "all: your own data (omniad fit / score / detect) — test = every session, train = those not labelled "
        "anomalous, labels optional",
    )
    seed: int = Field(default=0, description="seed of the random split")


class WindowParams(Params):
    window: Literal["fixed", "sliding"] = Field(
        default="fixed", description="fixed: windows side by side (step = size); sliding: overlapping, by window_step"
    )
    window_unit: Literal["lines", "seconds"] = Field(
        default="lines", description="window_size/window_step count lines, or seconds of the line timestamps"
    )
    window_size: float = Field(default=100, gt=0, description="lines or seconds per window")
    window_step: float | None = Field(default=None, gt=0, description="sliding windows only: lines or seconds between starts")
    min_session_length: int = Field(
        default=1, ge=1, description="windows with fewer lines are dropped (and counted in meta)"
    )

    @model_validator(mode="after")
    def _window_rule(self) -> WindowParams:
        if self.window == "fixed" and self.window_step not in (None, self.window_size):
            raise ValueError("window_step is for sliding windows; set window='sliding' or drop window_step")
        if self.window == "sliding":
            if self.window_step is None:
                raise ValueError("window='sliding' needs window_step (lines or seconds between window starts)")
            if self.window_step > self.window_size:
                raise ValueError(
                    f"window_step ({self.window_step}) > window_size ({self.window_size}) would skip lines; "
                    "use a step no larger than the size"
                )
        if self.window_unit == "lines":
            for name in ("window_size", "window_step"):
                value = getattr(self, name)
                if value is not None and float(value) != int(value):
                    raise ValueError(f"{name} counts lines with window_unit='lines'; give a whole number")
        return self


_LOG_FORMAT = (
    "header format: a loghub format string such as '<Date> <Time> <Level>: <Content>', a system name "
    "(a key of LOG_FORMATS, e.g. HDFS), 'auto' (the known format that explains the first lines, else an "
    "inferred timestamp prefix, else none; the choice is printed), 'infer' (a timestamp prefix only) or "
    "'none' (whole lines); overrides system"
)
_PATTERN = "glob inside a folder; several separated by commas ('*.log,*.txt')"


def _session_pattern(value: str | None) -> str | None:
    """A session id regex: valid, and runnable on RE2 when it is not one of the built-in ones."""
    if value is None:
        return None
    import re

    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression ({exc})") from None
    from omniad.errors import ConfigError
    from omniad_logs.datasets.hdfs import session_regex

    try:
        session_regex(value, "session_pattern")  # a pattern RE2 cannot run fails here, not at load
    except ConfigError as exc:
        raise ValueError(str(exc).removeprefix("session_pattern: ")) from None
    return value


class LoghubParams(ReadingParams, ParseParams, WindowParams, SplitParams):
    path: Path = Field(description="a raw log (a loghub <System>_2k.log, or your own .log / .txt) or a folder of them")
    pattern: str = Field(default="*.log", description=_PATTERN)
    system: str | None = Field(
        default=None,
        description="loghub system (a key of omniad_logs.parsing.LOG_FORMATS) for the header format; "
        "default: the file name up to the first '_' (BGL_2k.log -> BGL)",
    )
    log_format: str | None = Field(default=None, description=_LOG_FORMAT)
    session_pattern: str | None = Field(
        default=None,
        description="regex of a session id in a line (e.g. 'blk_-?\\d+'): lines are grouped by it (a line with two "
        "ids belongs to both, lines without one are counted); None = windows (window, window_size, window_unit)",
    )

    @field_validator("session_pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return _session_pattern(value)


class BGLParams(ReadingParams, ParseParams, WindowParams, SplitParams):
    path: Path | None = Field(
        default=None, description="a BGL/Thunderbird raw log or a folder of them; default $OMNIAD_SHARED_DATA/data/loghub/BGL"
    )
    pattern: str = Field(default="*.log", description="glob inside a folder")
    system: str = Field(
        default="BGL", description="header format (a key of LOG_FORMATS): BGL, or Thunderbird for Thunderbird logs"
    )
    log_format: str | None = Field(default=None, description=_LOG_FORMAT)


class HDFSParams(ReadingParams, ParseParams):
    path: Path | None = Field(
        default=None, description="an HDFS raw log or a folder with one; default $OMNIAD_SHARED_DATA/data/loghub/HDFS"
    )
    pattern: str = Field(default="*.log", description="glob inside a folder")
    labels: Path | None = Field(
        default=None,
        description="anomaly_label.csv (BlockId,Label with Normal/Anomaly); default anomaly_label.csv beside the log",
    )
    system: str = Field(default="HDFS", description="header format (a key of LOG_FORMATS)")
    log_format: str | None = Field(default=None, description=_LOG_FORMAT)
    session_pattern: str = Field(
        default=r"blk_-?\d+", description="regex of the session id in a line (a line with two ids belongs to both)"
    )
    min_session_length: int = Field(default=1, ge=1, description="shorter sessions are dropped (and counted)")
    train_fraction: float = Field(default=0.5, gt=0, lt=1, description="seeded share of the normal sessions used for training")
    seed: int = 0
    split: Literal["random", "all"] = Field(
        default="random",
        description="random: train = a seeded train_fraction of the normal sessions, the label file is required; "
        "all: your own data — test = every session, train = those not labelled anomalous; the label file is "
        "used when there is one (anomaly_label.csv beside the log, or 'labels'), never required",
    )

    @field_validator("session_pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        checked = _session_pattern(value)
        assert checked is not None
        return checked


class TableParams(ReadingParams, WindowParams, SplitParams):
    path: Path = Field(description="a CSV or JSONL file (or a folder of them) with one row per log line")
    pattern: str = Field(default="*", description="glob inside a folder (.csv, .jsonl, .json files)")
    message_column: str = Field(
        default="message",
        description="column with the log message text; with split='all' and this default, the first of message, "
        "msg, content, text, log, line (any case) is used and named",
    )
    label_column: str | None = Field(
        default="label",
        description="per-line label column: 0/1, true/false, normal/anomaly, or BGL-style '-' = normal; "
        "None = unlabelled (inspection only); with split='all' a table without the default 'label' column "
        "is unlabelled",
    )
    session_column: str | None = Field(default=None, description="session id column; None = windows over the rows")
    timestamp_column: str | None = Field(
        default=None, description="seconds since the epoch or a datetime string (needed for window_unit='seconds')"
    )
    event_column: str | None = Field(default=None, description="pre-parsed event ids; None = parse the messages")


class SyntheticParams(Params):
    n_sessions: int = Field(default=400, ge=4, le=200_000, description="sessions (workflow runs) to generate")
    anomaly_fraction: float = Field(default=0.1, gt=0, lt=1, description="share of sessions with an injected anomaly")
    anomaly_types: list[AnomalyKind] = Field(
        default_factory=lambda: list(ANOMALY_KINDS), description="kinds to inject, cycled over the anomalous sessions"
    )
    severity: int = Field(default=2, ge=1, le=3, description="1 subtle, 2 clear, 3 strong (burst length, parameter outlier size)")
    mixed_severity: bool = Field(default=False, description="draw each anomaly's severity in 1..severity")
    noise_lines: float = Field(
        default=0.05, ge=0, le=1, description="background lines without a session id, per session line"
    )
    seed: int = 0
    root: Path | None = Field(
        default=None,
        description="cache folder for the generated files (a sub-folder per generator setting); "
        "default $OMNIAD_CACHE_DIR or the user cache (~/.cache/omniad/logs-synthetic)",
    )
    events: Literal["parse", "ground_truth"] = Field(
        default="parse", description="parse the generated lines with TemplateMiner, or use the generator's event ids"
    )
    train_fraction: float = Field(default=0.5, gt=0, lt=1, description="seeded share of the normal sessions used for training")

    @field_validator("anomaly_types")
    @classmethod
    def _non_empty(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("give at least one anomaly type")
        return value

    def generator_key(self) -> dict[str, object]:
        """The settings that change the generated files (the cache key); loader settings are left out."""
        return self.model_dump(mode="json", include={"n_sessions", "anomaly_fraction", "anomaly_types", "severity",
                                                      "mixed_severity", "noise_lines", "seed"})
