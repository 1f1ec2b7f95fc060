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
from pathlib import Path, PurePath
from typing import Any

from omniad.errors import ConfigError, OmniadError
from omniad.params import annotation_members
from omniad.registry import ComponentCard, DatasetCard, Entry, MetricCard, Registry
from omniad.runner.config import ComponentSpec, MetricSpec, RunConfig, label_clashes


@dataclass(frozen=True)
class Resolved:
    """A component id with validated parameters (JSON-ready) and its report label."""

    id: str
    params: dict[str, Any]
    label: str
    #: datasets only: a separate source to score (fit on this dataset's fit data, score that)
    score: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"id": self.id, "params": self.params, "label": self.label}
        if self.score is not None:
            out["score"] = self.score
        return out


@dataclass(frozen=True)
class Job:
    detector: Resolved
    dataset: Resolved
    metrics: tuple[Resolved, ...]
    seed: int
    device: str = "auto"
    examples: int = 0
    save_models: bool = False
    save_scores: bool = False
    #: (label, why) of the configured metrics left out for this dataset (pairing = "modality");
    #: the record lists them as not computed, so a metric asked for never vanishes silently
    skipped_metrics: tuple[tuple[str, str], ...] = ()
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
    payload: dict[str, dict[str, Any] | int] = {
        "detector": {"id": detector.id, "params": detector.params},
        "dataset": {"id": dataset.id, "params": dataset.params},
        "seed": seed,
    }
    if dataset.score is not None:  # only then, so the keys of grids without one never change
        payload["dataset"] = {"id": dataset.id, "params": dataset.params, "score": dataset.score}
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
    validated = entry.validate_params(spec.params).model_dump(mode="json")
    label = _label(spec, _defaults(entry), validated)
    score = None
    if spec.score is not None:
        score = _score_source(registry, entry, spec)
        if not spec.name:
            label += " → " + str(score.get("path") or score.get("id"))
    return entry, Resolved(spec.id, validated, label, score)


def _score_source(registry: Registry, entry: Entry, spec: ComponentSpec) -> dict[str, Any]:
    """A dataset's separate score source, checked now (the path exists, a loader reads it) and kept as written."""
    from omniad.sources import SourceSpec, resolve

    where = f"dataset {spec.id}: score source"
    source = SourceSpec.from_config(spec.score, where)
    try:
        resolve(source, registry, modality=entry.card.modality, sample_kind=getattr(entry.card, "sample_kind", None))
    except OmniadError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    out: dict[str, Any] = {"path": source.path} if source.path is not None else {"id": source.id}
    if source.params:
        out["params"] = source.params
    if source.loader is not None:
        out["loader"] = source.loader
    return out


def _defaults(entry: Entry) -> dict[str, Any]:
    try:
        return entry.params_model()().model_dump(mode="json")
    except Exception:  # required parameters: no defaults to compare against
        return {}


def _split_seeded(entry: Entry, spec: ComponentSpec, resolved: Resolved, seeds: list[int],
                  problems: list[str]) -> dict[int, Resolved] | None:
    """``split_seed = "run"``: the dataset once per seed, its split seed parameter set to that seed.

    The label drops the varying value and says ``seed=run`` instead, so the report still
    averages the seeds of one dataset; the params (and so the job key) hold the seed used.
    None when the card names no split seed (the split is fixed by the data).
    """
    card = entry.card
    assert isinstance(card, DatasetCard)
    name = card.split_seed_param
    if name is None:
        return None
    if name not in entry.params_model().model_fields:
        problems.append(f"dataset {entry.id}: its card's split_seed_param {name!r} is not one of its parameters; "
                        f"fix the card in plugin {entry.plugin}, or set split_seed = 'fixed'")
        return None
    if name in spec.params:
        problems.append(f"dataset {resolved.label}: params set {name} = {spec.params[name]!r} but split_seed = 'run' "
                        f"sets it to each job's seed; remove one of the two")
        return None
    others = {k: v for k, v in resolved.params.items() if k != name}
    base = _label(spec, _defaults(entry), others)
    label = (f"{base[:-1]},{name}=run)" if base.endswith(")") and not spec.name else f"{base}({name}=run)")
    out = {}
    for seed in seeds:
        try:
            params = entry.validate_params({**spec.params, name: seed}).model_dump(mode="json")
        except ConfigError as exc:
            problems.append(f"{exc} (split_seed = 'run' sets {name} to the run's seed {seed})")
            return None
        out[seed] = Resolved(spec.id, params, label, resolved.score)
    return out


def seed_notes(config: RunConfig, registry: Registry, jobs: list[Job]) -> list[str]:
    """What the grid's seeds vary, said where it may surprise: several seeds over a fixed split.

    With ``split_seed = "fixed"`` the seeds reseed the detector only, so "three seeds" of a
    seeded dataset score one split three times; the note names the split seed each keeps.
    """
    if config.split_seed != "fixed" or len(config.seeds) < 2:
        return []
    kept: dict[str, Any] = {}
    for job in jobs:
        card = registry.get("dataset", job.dataset.id).card
        name = getattr(card, "split_seed_param", None)
        if name is not None and name in job.dataset.params:
            kept.setdefault(f"{job.dataset.label} ({name}={job.dataset.params[name]})", None)
    if not kept:
        return []
    return [f"seeds {config.seeds} reseed the detectors only: {', '.join(kept)} keep one split for every seed "
            "(split_seed = 'fixed'); set split_seed = 'run' to draw each seed's own split"]


def requirement_problems(registry: Registry, jobs: list[Job]) -> list[str]:
    """One line per planned component whose dependencies are missing, naming what to pip install."""
    seen: dict[tuple[str, str, str], tuple[Entry, dict[str, Any]]] = {}
    for job in jobs:
        parts = [("detector", job.detector), ("dataset", job.dataset)] + [("metric", m) for m in job.metrics]
        for kind, res in parts:
            key = (kind, res.id, canonical(res.params))
            if key not in seen:
                seen[key] = (registry.get(kind, res.id), res.params)  # type: ignore[arg-type]
    problems = []
    for entry, params in seen.values():
        try:
            problem = entry.requirement_problem(entry.validate_params(params))
        except ConfigError:  # validated once already; a problem here is reported elsewhere
            continue
        if problem:
            problems.append(problem)
    return list(dict.fromkeys(problems))


def _resolve_metric(registry: Registry, spec: MetricSpec) -> Resolved:
    entry = registry.get("metric", spec.id)
    validated = entry.validate_params(spec.params).model_dump(mode="json")
    return Resolved(spec.id, validated, spec.name or spec.id)


def metric_mismatch(card: MetricCard, dataset: DatasetCard) -> str | None:
    """Why metric ``card`` cannot be computed on ``dataset`` (from the cards alone), else None."""
    if card.level == "local":
        needed = " or ".join(repr(k) for k in card.localization)
        if dataset.localization is None:
            what = f"per-{card.localization[0]} targets (localization {needed})" if card.localization else (
                "localization targets"
            )
            return f"{card.id} needs {what}; dataset {dataset.id} has none"
        if card.localization and dataset.localization not in card.localization:
            return (
                f"{card.id} needs per-{card.localization[0]} targets (localization {needed}); "
                f"dataset {dataset.id} has localization {dataset.localization!r}"
            )
    if card.modality not in ("any", dataset.modality) and dataset.modality != "any":
        return f"{card.id} is a {card.modality} metric; dataset {dataset.id} is {dataset.modality} data"
    return None


def missing_paths(entry: Entry, resolved: Resolved) -> list[str]:
    """Path-typed dataset parameters that name nothing on disk, one message each.

    ``None`` (the default of ``root`` in NAB, MVTec, ...) means "resolve under
    $OMNIAD_SHARED_DATA when loading" and is left to the dataset.
    """
    out = []
    for name, info in entry.params_model().model_fields.items():
        value = resolved.params.get(name)
        if value is None or not isinstance(value, str):
            continue
        if not any(isinstance(m, type) and issubclass(m, PurePath) for m in annotation_members(info.annotation)):
            continue
        path = Path(value).expanduser()
        if not path.exists():
            where = "" if path.is_absolute() else f" (relative to {Path.cwd()})"
            out.append(f"dataset {resolved.id}: parameter {name!r}: {value} does not exist{where}; fix the path")
    return out


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
        if metric_mismatch(card, dataset) is not None:
            continue
        try:
            params = entry.validate_params({}).model_dump(mode="json")
        except ConfigError:
            continue  # needs parameters the user must choose (e.g. a threshold)
        out.append(Resolved(card.id, params, card.id))
    return out


def _dataset_metrics(
    registry: Registry, config: RunConfig, metrics: list[tuple[MetricCard, Resolved]], dataset: DatasetCard,
    problems: list[str],
) -> tuple[tuple[Resolved, ...], tuple[tuple[str, str], ...]]:
    """The configured metrics that ``dataset`` can be scored with; mismatches go to ``problems``.

    A job without a computable metric would be "ok" with no result, so: with
    ``pairing = "all"`` every metric must fit every dataset; with ``"modality"`` a metric
    is left out where it does not fit (as mismatched detectors are), unless that leaves a
    dataset with none.
    """
    if not metrics:
        return tuple(auto_metrics(registry, dataset)), ()
    fitting = []
    misfits = []
    skipped = []
    for card, resolved in metrics:
        why = metric_mismatch(card, dataset)
        if why is None:
            fitting.append(resolved)
        else:
            misfits.append(why if resolved.label == resolved.id else f"metric {resolved.label}: {why}")
            skipped.append((resolved.label, why))
    if misfits and (config.pairing == "all" or not fitting):
        hint = "; choose metrics that fit the dataset" + ("" if config.pairing == "all" else " (or add one)")
        problems.extend(m + hint for m in misfits)
    return tuple(fitting), tuple(skipped)



def _pairs(detector: ComponentCard, dataset: DatasetCard) -> bool:
    """Modality pairing: same modality (or ``any``), and the same kind of sample where both say.

    A video MIL model reads pre-extracted features and a frame kNN reads decoded frames; both
    are "video", so the modality alone would pair each with the other's datasets.
    """
    if detector.modality not in (dataset.modality, "any"):
        return False
    kind = getattr(detector, "sample_kind", None)
    return kind is None or dataset.sample_kind is None or kind == dataset.sample_kind

def plan(config: RunConfig, registry: Registry) -> list[Job]:
    """Resolve and validate the whole grid; raise one ``ConfigError`` listing every problem."""
    problems: list[str] = []
    detectors: list[tuple[Entry, Resolved]] = []
    datasets: list[tuple[Entry, Resolved]] = []
    seeded: dict[int, dict[int, Resolved] | None] = {}  # index in datasets -> the dataset per seed
    for kind, specs, sink in (("detector", config.detectors, detectors), ("dataset", config.datasets, datasets)):
        for spec in specs:
            for expanded in spec.expand():
                try:
                    sink.append(_resolve(registry, kind, expanded))
                except ConfigError as exc:
                    problems.append(str(exc))
                    continue
                if kind == "dataset" and config.split_seed == "run":
                    entry, resolved = sink[-1]
                    seeded[len(sink) - 1] = _split_seeded(entry, expanded, resolved, config.seeds, problems)
    for s_entry, s_res in datasets:
        problems.extend(missing_paths(s_entry, s_res))
    for kind, found in (("detector", detectors), ("dataset", datasets)):  # labels group the reports
        problems.extend(label_clashes([(kind, r.label, r.id, r.params) for _, r in found]))
    metrics: list[tuple[MetricCard, Resolved]] = []
    for mspec in config.metrics:
        try:
            m_res = _resolve_metric(registry, mspec)
            m_card = registry.get("metric", mspec.id).card
            assert isinstance(m_card, MetricCard)
            metrics.append((m_card, m_res))
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError("invalid run configuration:\n  - " + "\n  - ".join(problems))

    jobs: list[Job] = []
    per_dataset: dict[str, tuple[tuple[Resolved, ...], tuple[tuple[str, str], ...]]] = {}
    for d_entry, d_res in detectors:
        for index, (s_entry, s_res) in enumerate(datasets):
            s_card = s_entry.card
            assert isinstance(s_card, DatasetCard)
            if config.pairing == "modality" and not _pairs(d_entry.card, s_card):
                continue
            if s_res.label not in per_dataset:
                per_dataset[s_res.label] = _dataset_metrics(registry, config, metrics, s_card, problems)
            per_seed = seeded.get(index)
            for seed in config.seeds:
                ds = per_seed[seed] if per_seed else s_res
                fitting, skipped = per_dataset[s_res.label]
                jobs.append(Job(d_res, ds, fitting, seed, config.device, config.examples,
                                save_models=config.save_models, save_scores=config.save_scores,
                                skipped_metrics=skipped))
    problems.extend(requirement_problems(registry, jobs))
    if problems:
        raise ConfigError("invalid run configuration:\n  - " + "\n  - ".join(dict.fromkeys(problems)))
    if not jobs:
        raise ConfigError(
            "the grid is empty: no detector shares a modality (and kind of sample) with a dataset; "
            "check the ids or set pairing = 'all'"
        )
    keys = [j.key for j in jobs]
    if len(set(keys)) != len(keys):
        raise ConfigError("the grid lists the same detector/dataset/seed combination twice; remove the duplicate")
    return jobs
