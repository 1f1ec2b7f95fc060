"""Run configuration: a grid of detectors x datasets x metrics x seeds, validated by pydantic.

A config is TOML or YAML::

    output_dir = "results/nab"
    seeds = [0, 1]
    metrics = ["core.local_auroc", { id = "timeseries.vus_pr", params = { window = 100 } }]

    [[detectors]]
    id = "timeseries.sub_pca"

    [[detectors]]
    id = "core.knn"
    grid = { n_neighbors = [1, 5, 10] }     # expands into three detectors

    [[datasets]]
    id = "timeseries.nab"
    params = { categories = ["realTraffic"] }

Everything is checked against the registry (ids, parameters, requirements) before any
job runs, so a typo fails in a second, not after an hour of GPU time.
"""

from __future__ import annotations

import itertools
import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from omniad.errors import ConfigError
from omniad.params import format_validation_error


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ComponentSpec(_Strict):
    id: str
    params: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list[Any]] = Field(
        default_factory=dict, description="parameter -> values; expands into the cartesian product"
    )
    name: str | None = Field(default=None, description="label in reports (default: id + non-default params)")
    score: str | dict[str, Any] | None = Field(
        default=None,
        description="datasets only: a separate source to score, a path or {id, params} / {path, loader, params}; "
        "the detector is fitted on this dataset's fit data and scored on that source",
    )

    @field_validator("grid")
    @classmethod
    def _non_empty_grid(cls, value: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in value.items():
            if not values:
                raise ValueError(f"grid entry {key!r} has no values")
        return value

    def expand(self) -> list[ComponentSpec]:
        if not self.grid:
            return [self]
        keys = sorted(self.grid)
        out = []
        for combo in itertools.product(*(self.grid[k] for k in keys)):
            params = {**self.params, **dict(zip(keys, combo, strict=True))}
            name = None
            if self.name:
                name = self.name + "[" + ",".join(f"{k}={v}" for k, v in zip(keys, combo, strict=True)) + "]"
            out.append(ComponentSpec(id=self.id, params=params, name=name, score=self.score))
        return out


class MetricSpec(_Strict):
    id: str
    params: dict[str, Any] = Field(default_factory=dict)
    name: str | None = Field(default=None, description="column name (default: the metric id)")


class JobResources(_Strict):
    """What each job asks the Ray scheduler for; the inline and process executors ignore it.

    Ray places a task only where its request fits, so these are what keeps two PatchCore
    jobs off one small GPU or a 20 GB dataset off a 16 GB node.
    """

    cpus: float = Field(default=1.0, gt=0, description="CPUs each job requests")
    gpus: float = Field(
        default=1.0, ge=0,
        description="GPUs a job requests when its detector's card uses one (gpu optional or required), "
        "the cluster has GPUs and device is not cpu; a fraction lets jobs share a GPU",
    )
    memory_mb: int | None = Field(default=None, ge=1, description="memory hint per job (MB); None: no hint")
    memory_mb_by_id: dict[str, int] = Field(
        default_factory=dict,
        description="detector or dataset id -> memory hint (MB) for its jobs; the largest hint that applies wins",
    )

    @field_validator("memory_mb_by_id")
    @classmethod
    def _positive_hints(cls, value: dict[str, int]) -> dict[str, int]:
        bad = sorted(k for k, v in value.items() if v < 1)
        if bad:
            raise ValueError(f"memory hints must be >= 1 MB; fix {bad}")
        return value


def label_clashes(items: list[tuple[str, str, str, dict[str, Any]]]) -> list[str]:
    """One message per label that two different components share: ``(where, label, id, params)`` each.

    Reports group results by label, so two components under one name would be merged into one
    row shown as "mean ± sd" of things that differ. The very same component listed twice is
    not a clash here (the plan rejects the repeated job itself).
    """
    first: dict[str, tuple[str, str, dict[str, Any]]] = {}
    out = []
    for where, label, id_, params in items:
        if label not in first:
            first[label] = (where, id_, params)
            continue
        where0, id0, params0 = first[label]
        if (id0, json.dumps(params0, sort_keys=True, default=str)) != (id_, json.dumps(params, sort_keys=True, default=str)):
            out.append(f"{where0} ({_describe(id0, params0)}) and {where} ({_describe(id_, params)}) share the "
                       f"label {label!r}; their results would be merged into one row: give each a distinct name")
    return out


def _describe(id_: str, params: dict[str, Any]) -> str:
    return id_ + (" " + json.dumps(params, sort_keys=True, default=str) if params else "")


class RunConfig(_Strict):
    name: str = "omniad-run"
    output_dir: Path = Path("results")
    detectors: list[ComponentSpec] = Field(min_length=1)
    datasets: list[ComponentSpec] = Field(min_length=1)
    metrics: list[MetricSpec] = Field(
        default_factory=list,
        description="empty: every honest metric that fits the dataset's modality and localization",
    )
    seeds: list[StrictInt] = Field(
        default_factory=lambda: [0], min_length=1,
        description="integers only: a quoted '1', 1.0 or true is refused rather than read as a different seed",
    )
    split_seed: Literal["fixed", "run"] = Field(
        default="fixed",
        description="fixed: each dataset's own split seed stays what its params say, so seeds vary only the "
        "detector; run: datasets whose card names a split seed parameter get each job's seed there",
    )
    device: str = "auto"
    pairing: Literal["modality", "all"] = Field(
        default="modality",
        description="modality: pair each detector only with datasets of its modality; all: every pair",
    )
    executor: Literal["inline", "process", "ray"] = "inline"
    workers: int = Field(default=1, ge=1)
    address: str | None = Field(
        default=None,
        description="ray only: None starts a local Ray instance; 'auto' joins the cluster this host is part of; "
        "'ray://host:10001' connects through Ray Client",
    )
    resources: JobResources = Field(default_factory=JobResources)
    rerun: Literal["failed", "never", "all"] = Field(
        default="failed",
        description="for jobs already in the store: failed = rerun failed ones; never; all",
    )
    examples: int = Field(default=2, ge=0, description="example pictures per job for the HTML report")
    save_models: bool = Field(
        default=False,
        description="save each subset's fitted model (with thresholds and how its data was read) under "
        "<output_dir>/models/<job key>/<subset>, to reuse the winner with `omniad score` without refitting",
    )
    save_scores: bool = Field(
        default=False,
        description="write each subset's per-sample and per-element scores under <output_dir>/scores/<job key>/<subset>",
    )

    @field_validator("metrics", mode="before")
    @classmethod
    def _metric_shorthand(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"id": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _address_needs_ray(self) -> RunConfig:
        if self.address is not None and self.executor != "ray":
            raise ValueError(f"address {self.address!r} is only used by executor = 'ray' "
                             f"(executor is {self.executor!r}); set executor = 'ray' or drop the address")
        return self

    @model_validator(mode="after")
    def _saving_needs_local_workers(self) -> RunConfig:
        if (self.save_models or self.save_scores) and self.executor == "ray":
            raise ValueError("save_models / save_scores write from the job's own process, which on Ray is a remote "
                             "worker's scratch folder; use executor = 'inline' or 'process' for them")
        return self

    @model_validator(mode="after")
    def _score_only_for_datasets(self) -> RunConfig:
        bad = [d.id for d in self.detectors if d.score is not None]
        if bad:
            raise ValueError(f"detectors {bad} have a 'score' source; it belongs to a [[datasets]] entry")
        return self

    @model_validator(mode="after")
    def _unique_metric_columns(self) -> RunConfig:
        names = [m.name or m.id for m in self.metrics]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"metric columns {dupes} appear twice; give each a distinct 'name'")
        return self


def parse_config(data: Any, source: str = "config") -> RunConfig:
    if not isinstance(data, dict):
        got = "nothing (an empty file)" if data is None else f"a {type(data).__name__}"
        raise ConfigError(f"{source}: the top level must be a table/mapping of settings (detectors, datasets, ...), "
                          f"got {got}")
    try:
        config = RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {format_validation_error(exc)}") from None
    problems = []
    for kind, specs in (("detectors", config.detectors), ("datasets", config.datasets)):
        named = [(f"{kind}[{i}]", e.name, e.id, e.params) for i, spec in enumerate(specs) for e in spec.expand() if e.name]
        problems += label_clashes(named)  # the plan checks the labels it derives for the unnamed ones
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))
    return config


#: a grid is a few kilobytes; a bigger file is the wrong file (a data set passed by mistake)
MAX_CONFIG_BYTES = 16 * 2**20


def _read_text(path: Path) -> str:
    """The config file's text; a one-line ConfigError for a missing, unreadable or non-UTF-8 file."""
    if path.is_dir():
        raise ConfigError(f"{path} is a directory, not a config file; pass the .toml, .yaml or .json file itself")
    if not path.exists():
        raise ConfigError(f"config file {path} does not exist; check the path")
    if not path.is_file():  # a FIFO would block the read for ever, /dev/zero fill memory
        raise ConfigError(f"{path} is not a regular file (a pipe, device or socket); save the config to a file "
                          "and pass that")
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path} is {size / 2**20:.1f} MiB, too large for a config file (at most "
                              f"{MAX_CONFIG_BYTES // 2**20} MiB); pass the grid's .toml, .yaml or .json file")
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path} ({exc.strerror or exc}); "
                          "check its permissions or pass another file") from None
    try:
        return raw.decode("utf-8-sig")  # a UTF-8 byte order mark is harmless; drop it
    except UnicodeDecodeError as exc:
        utf16 = " (it looks like UTF-16)" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}: not UTF-8 text{utf16}: byte 0x{raw[exc.start]:02x} on line {line} "
                          f"(offset {exc.start}); save the config as UTF-8") from None


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Read a TOML (``.toml``) or YAML (``.yaml``/``.yml``) or JSON config file."""
    path = Path(path)
    text = _read_text(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix in {".yaml", ".yml"}:
            import yaml

            data = yaml.safe_load(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise ConfigError(f"{path}: unknown config format {suffix!r}; use .toml, .yaml or .json")
    except ConfigError:
        raise
    except Exception as exc:  # tomllib / yaml / json syntax errors
        raise ConfigError(f"{path}: cannot parse ({type(exc).__name__}: {str(exc).splitlines()[0]})") from None
    if overrides and isinstance(data, dict):
        data = {**data, **overrides}
    return parse_config(data, str(path))
