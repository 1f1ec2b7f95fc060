"""Jobs: one (detector, dataset, seed) cell of the grid, with a stable key.

The key is a hash of the canonical JSON of the validated detector and dataset parameters
and the seed, so the same experiment always maps to the same record in the store and a
rerun can skip it. Metrics are not part of the key: adding a metric reruns only the jobs
whose record lacks it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from omniad.errors import ConfigError
from omniad.registry import DatasetCard, Entry, MetricCard, Registry
from omniad.runner.config import ComponentSpec, MetricSpec, RunConfig


@dataclass(frozen=True)
class Resolved:
    """A component id with validated parameters (JSON-ready) and its report label."""

    id: str
    params: dict[str, Any]
    label: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "params": self.params, "label": self.label}


@dataclass(frozen=True)
class Job:
    detector: Resolved
    dataset: Resolved
    metrics: tuple[Resolved, ...]
    seed: int
    device: str = "auto"
    examples: int = 0
    key: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", job_key(self.detector, self.dataset, self.seed))

    @property
    def metric_names(self) -> list[str]:
        return [m.label for m in self.metrics]


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def job_key(detector: Resolved, dataset: Resolved, seed: int) -> str:
    payload = {
        "detector": {"id": detector.id, "params": detector.params},
        "dataset": {"id": dataset.id, "params": dataset.params},
        "seed": seed,
    }
    return hashlib.sha256(canonical(payload).encode()).hexdigest()[:16]


def _label(spec: ComponentSpec, defaults: dict[str, Any], params: dict[str, Any]) -> str:
    if spec.name:
        return spec.name
    changed = {k: v for k, v in params.items() if defaults.get(k, object()) != v}
    if not changed:
        return spec.id
    return spec.id + "(" + ",".join(f"{k}={v}" for k, v in sorted(changed.items())) + ")"


def _resolve(registry: Registry, kind: str, spec: ComponentSpec) -> tuple[Entry, Resolved]:
    entry = registry.get(kind, spec.id)  # type: ignore[arg-type]
    model = entry.params_model()
    validated = entry.validate_params(spec.params).model_dump(mode="json")
    try:
        defaults = model().model_dump(mode="json")
    except Exception:  # required parameters: no defaults to compare against
        defaults = {}
    return entry, Resolved(spec.id, validated, _label(spec, defaults, validated))


def _resolve_metric(registry: Registry, spec: MetricSpec) -> Resolved:
    entry = registry.get("metric", spec.id)
    validated = entry.validate_params(spec.params).model_dump(mode="json")
    return Resolved(spec.id, validated, spec.name or spec.id)


def auto_metrics(registry: Registry, dataset: DatasetCard) -> list[Resolved]:
    """The dataset's declared metrics, else every honest metric that fits its modality.

    Fitting means: the metric's modality is the dataset's (or any), local metrics only where
    the dataset has localization, and no parameter the user must choose. Modality-specific
    metrics come before generic ones, ranking metrics before threshold-dependent ones.
    """
    if dataset.metrics:
        declared = [registry.get("metric", m) for m in dataset.metrics if ("metric", m) in registry]
        if declared:
            return [Resolved(e.id, e.validate_params({}).model_dump(mode="json"), e.id) for e in declared]
    out = []
    entries = sorted(
        registry.list("metric"),
        key=lambda e: (e.card.modality == "any", "threshold-dependent" in e.card.tags, e.id),
    )
    for entry in entries:
        card = entry.card
        assert isinstance(card, MetricCard)
        if card.modality not in ("any", dataset.modality) or not card.honest or "opt-in" in card.tags:
            continue
        if card.level == "local" and dataset.localization is None:
            continue
        try:
            params = entry.validate_params({}).model_dump(mode="json")
        except ConfigError:
            continue  # needs parameters the user must choose (e.g. a threshold)
        out.append(Resolved(card.id, params, card.id))
    return out


def plan(config: RunConfig, registry: Registry) -> list[Job]:
    """Resolve and validate the whole grid; raise one ``ConfigError`` listing every problem."""
    problems: list[str] = []
    detectors: list[tuple[Entry, Resolved]] = []
    datasets: list[tuple[Entry, Resolved]] = []
    for kind, specs, sink in (("detector", config.detectors, detectors), ("dataset", config.datasets, datasets)):
        for spec in specs:
            for expanded in spec.expand():
                try:
                    sink.append(_resolve(registry, kind, expanded))
                except ConfigError as exc:
                    problems.append(str(exc))
    metrics: list[Resolved] = []
    for mspec in config.metrics:
        try:
            metrics.append(_resolve_metric(registry, mspec))
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError("invalid run configuration:\n  - " + "\n  - ".join(problems))

    jobs: list[Job] = []
    for d_entry, d_res in detectors:
        for s_entry, s_res in datasets:
            s_card = s_entry.card
            assert isinstance(s_card, DatasetCard)
            if config.pairing == "modality" and d_entry.card.modality not in (s_card.modality, "any"):
                continue
            job_metrics = tuple(metrics) if metrics else tuple(auto_metrics(registry, s_card))
            for seed in config.seeds:
                jobs.append(Job(d_res, s_res, job_metrics, seed, config.device, config.examples))
    if not jobs:
        raise ConfigError(
            "the grid is empty: no detector shares a modality with a dataset; "
            "check the ids or set pairing = 'all'"
        )
    keys = [j.key for j in jobs]
    if len(set(keys)) != len(keys):
        raise ConfigError("the grid lists the same detector/dataset/seed combination twice; remove the duplicate")
    return jobs
