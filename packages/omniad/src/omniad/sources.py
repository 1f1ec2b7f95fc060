"""Where fit and score data come from: a registered dataset with parameters, or just a path.

A user with a CSV of CPU metrics, a server log or a folder of images should not have to
learn dataset ids. A bare path is matched against the loaders that say they read it
(``DatasetCard.path_param`` / ``reads`` / ``probe``), narrowed to the detector's modality,
and the choice is printed with the alternatives. The loader is then opened in its
"everything" mode (``DatasetCard.source_params``): all samples are scored, the ones not
labelled anomalous are fitted on, and labels are used when present, never required.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omniad.data import Split, Subset
from omniad.dataset import Dataset
from omniad.errors import ConfigError, DataError
from omniad.registry import ID_PATTERN, DatasetCard, Entry, Registry, import_target


@dataclass(frozen=True)
class SourceSpec:
    """A source as written by a user: a dataset ``id`` with ``params``, or a ``path`` (with an optional ``loader``)."""

    id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    path: str | None = None
    loader: str | None = None

    def __post_init__(self) -> None:
        if (self.id is None) == (self.path is None):
            raise ConfigError("a source is either a dataset id or a path; give exactly one")
        if self.id is not None and self.loader is not None:
            raise ConfigError(f"source {self.id!r}: 'loader' only applies to a path; drop it")

    @classmethod
    def parse(cls, text: str, params: dict[str, Any] | None = None, loader: str | None = None) -> SourceSpec:
        """A CLI argument: an existing path, or a registered dataset id like ``timeseries.nab``."""
        text = str(text)
        if Path(text).expanduser().exists() or not ID_PATTERN.match(text):
            return cls(path=text, params=dict(params or {}), loader=loader)
        return cls(id=text, params=dict(params or {}))

    @classmethod
    def from_config(cls, data: Any, where: str) -> SourceSpec:
        """A source written in a grid or JSON: ``"path"``, ``{"path": ...}`` or ``{"id": ..., "params": ...}``."""
        if isinstance(data, str):
            return cls.parse(data)
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: a source is a path, or a table with 'id' or 'path'; got {data!r}")
        unknown = sorted(set(data) - {"id", "params", "path", "loader"})
        if unknown:
            raise ConfigError(f"{where}: unknown source keys {unknown}; use id, params, path, loader")
        params = data.get("params", {})
        if not isinstance(params, dict):
            raise ConfigError(f"{where}: 'params' must be a table")
        return cls(id=data.get("id"), params=params, path=data.get("path"), loader=data.get("loader"))

    def describe(self) -> str:
        return self.path if self.path is not None else str(self.id)


@dataclass(frozen=True)
class ResolvedSource:
    """A source bound to a loader and validated parameters (JSON-ready)."""

    entry: Entry
    params: dict[str, Any]
    note: str

    @property
    def id(self) -> str:
        return self.entry.id

    @property
    def card(self) -> DatasetCard:
        card = self.entry.card
        assert isinstance(card, DatasetCard)
        return card

    def to_json(self) -> dict[str, Any]:
        return {"loader": self.entry.id, "params": self.params}


def _reads(card: DatasetCard, path: Path) -> bool:
    if path.is_dir():
        return "/" in card.reads
    suffixes = [s.lower() for s in path.suffixes]
    return any("".join(suffixes[i:]) in card.reads for i in range(len(suffixes)))


def _probe(entry: Entry, path: Path) -> float:
    card = entry.card
    assert isinstance(card, DatasetCard)
    if card.probe is None:
        return 0.5
    try:
        fn: Callable[[Path], float] = import_target(card.probe, what=f"dataset {entry.id!r} probe")
        return float(fn(path))
    except Exception:  # a probe that cannot decide must not stop the others
        return 0.0


def _matches(entry: Entry, modality: str | None, sample_kind: str | None) -> bool:
    card = entry.card
    assert isinstance(card, DatasetCard)
    if modality not in (None, "any") and card.modality not in (modality, "any"):
        return False
    return sample_kind is None or card.sample_kind is None or card.sample_kind == sample_kind


def path_loaders(registry: Registry, modality: str | None = None, sample_kind: str | None = None) -> list[Entry]:
    """Every installed loader that can open a bare path (for listings and messages)."""
    return [e for e in registry.list("dataset")
            if isinstance(e.card, DatasetCard) and e.card.path_param and _matches(e, modality, sample_kind)]


def _readable(entries: list[Entry]) -> str:
    return "; ".join(f"{e.id} ({' '.join(e.card.reads)})" for e in entries if isinstance(e.card, DatasetCard)) or "none"


def resolve(
    spec: SourceSpec, registry: Registry, *, modality: str | None = None, sample_kind: str | None = None,
) -> ResolvedSource:
    """Bind ``spec`` to a loader and its parameters; a bare path picks the loader that reads it."""
    if spec.id is not None:
        entry = registry.get("dataset", spec.id)
        if not _matches(entry, modality, sample_kind):
            raise ConfigError(f"dataset {spec.id!r} holds {entry.card.modality} data; this detector takes {modality}")
        params = entry.validate_params(spec.params).model_dump(mode="json")
        return ResolvedSource(entry, params, f"reading dataset {spec.id}")
    assert spec.path is not None
    path = Path(spec.path).expanduser()
    if not path.exists():
        where = "" if path.is_absolute() else f" (relative to {Path.cwd()})"
        raise DataError(f"{spec.path} does not exist{where}; check the path")
    candidates = path_loaders(registry, modality, sample_kind)
    if spec.loader is not None:
        entry = registry.get("dataset", spec.loader)
        if entry not in candidates:
            raise ConfigError(f"loader {spec.loader!r} cannot open a path for {modality or 'any'} data; "
                              f"loaders that can: {_readable(candidates)}")
        chosen, others = entry, []
        why = "as asked"
    else:
        fitting = [e for e in candidates if isinstance(e.card, DatasetCard) and _reads(e.card, path)]
        kind = "folder" if path.is_dir() else f"{''.join(path.suffixes) or 'suffix-less'} file"
        if not fitting:
            raise DataError(
                f"{spec.path}: no installed loader reads a {kind}"
                + (f" of {modality} data" if modality else "")
                + f"; loaders that read paths: {_readable(candidates)}. Convert the data, pass --loader, "
                "or install the package for this kind of data"
            )
        ranked = sorted(fitting, key=lambda e: (-_probe(e, path), e.id))
        if _probe(ranked[0], path) <= 0.0:
            raise DataError(f"{spec.path}: none of the loaders for a {kind} ({', '.join(e.id for e in ranked)}) "
                            "recognises its content; pass --loader to choose one")
        chosen, others = ranked[0], [e.id for e in ranked[1:] if _probe(e, path) > 0.0]
        why = f"it reads a {kind}"
    card = chosen.card
    assert isinstance(card, DatasetCard) and card.path_param is not None
    params = {**card.source_params, **spec.params, card.path_param: str(path)}
    validated = chosen.validate_params(params).model_dump(mode="json")
    note = f"reading {spec.path} with {chosen.id} ({why})"
    if others:
        note += f"; also possible: {', '.join(others)} (pass --loader to choose)"
    return ResolvedSource(chosen, validated, note)


def with_path(source: dict[str, Any], path: str, registry: Registry) -> ResolvedSource:
    """The saved source of a model (loader and parameters) pointed at a new path: read new data as the fit data was."""
    try:
        entry = registry.get("dataset", str(source["loader"]))
        params = dict(source["params"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"the model's saved source is not usable ({exc}); refit the model") from None
    card = entry.card
    assert isinstance(card, DatasetCard)
    if card.path_param is None:
        raise DataError(f"the model was fitted on dataset {entry.id}, which does not read paths; pass --loader")
    if not Path(path).expanduser().exists():
        raise DataError(f"{path} does not exist; check the path")
    params[card.path_param] = str(Path(path).expanduser())
    validated = entry.validate_params(params).model_dump(mode="json")
    return ResolvedSource(entry, validated, f"reading {path} with {entry.id} (as the model's fit data was read)")


def open_dataset(resolved: ResolvedSource, state: dict[str, Any] | None = None) -> Dataset:
    """The loader instance; ``state`` is what it exported when the fit data was read (a log parser's templates)."""
    resolved.entry.check_requires()
    dataset: Dataset = resolved.entry.create(resolved.params)
    if state is not None:
        dataset.import_source_state(state)
    return dataset


def subsets(dataset: Dataset) -> Iterator[Subset]:
    """The loader's subsets, checked but with labels and anomalies optional (own data has neither)."""
    name = dataset.component_id or type(dataset).__name__
    for subset in dataset.iter_subsets():
        yield subset.validate(name, require_anomalies=False)


def samples_of(split: Split) -> list[Any]:
    return [split.samples[i] for i in range(len(split.samples))]


def parse_assignments(items: list[str] | None, what: str) -> dict[str, Any]:
    """``["k=v", ...]`` from the command line; values are read as JSON where they parse, else as strings."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{what} {item!r}: write name=value, e.g. window=64 or columns='[\"cpu\"]'")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


def detector_kind(detector: Any) -> tuple[str | None, str | None]:
    """The modality and kind of sample of a detector, from its card (None, None when unregistered)."""
    from omniad.plugins import get_registry
    from omniad.registry import DetectorCard

    component_id = getattr(detector, "component_id", None)
    if not component_id or ("detector", component_id) not in get_registry():
        return None, None
    card = get_registry().get("detector", component_id).card
    assert isinstance(card, DetectorCard)
    return card.modality, card.sample_kind



def check_fitted_columns(
    columns: Sequence[str], fitted: Sequence[str], other: Collection[str | None], where: str, what: str
) -> None:
    """A new table against the columns a model's fit data was read with (its source state): every one must be
    there, by name (a missing one fails naming it); columns that are neither those nor ``other`` (label,
    time, ...) are named in a warning and not used. ``what`` names the columns in the messages ("fields",
    "channels")."""
    missing = [c for c in fitted if c not in columns]
    if missing:
        raise DataError(f"{where}: the model was fitted on {what} {list(fitted)}, but this file has no {missing} "
                        f"(columns: {list(columns)[:20]}); give it those columns")
    used = {*fitted, *other}
    extra = [c for c in columns if c not in used]
    if extra:
        warnings.warn(f"{where}: columns {extra[:10]} were not {what} of the model's fit data; not used",
                      UserWarning, stacklevel=3)
