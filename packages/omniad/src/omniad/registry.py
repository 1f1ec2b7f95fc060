"""The component registry: explicit ids, pydantic cards, lazy ``"module:attr"`` targets.

Registration stores strings, not classes, so that discovering every installed plugin and
listing its components imports no torch, timm or transformers; the class is imported only
when a component is used. Duplicate ids are rejected naming both plugins.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from omniad.errors import (
    ConfigError,
    DuplicateComponentError,
    MissingDependencyError,
    UnknownComponentError,
)
from omniad.params import NoParams, format_validation_error

Kind = Literal["detector", "dataset", "metric"]
KINDS: tuple[Kind, ...] = ("detector", "dataset", "metric")
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9][a-z0-9_\-]*)+$")
TARGET_PATTERN = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


class ComponentCard(BaseModel):
    """What omniad knows about a component without importing it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: ClassVar[Kind]

    id: str = Field(description="dotted id, prefix = package or plugin, e.g. 'vision.patchcore'")
    target: str = Field(description="'module:attr' of the implementing class, imported lazily")
    modality: str = Field(description="timeseries, vision, video, logs, text, pointcloud, tabular, any")
    summary: str
    params: str | None = Field(
        default=None,
        description="'module:attr' of the pydantic parameter model; must not import torch",
    )
    reference: str | None = Field(default=None, description="paper or upstream project")
    requires: tuple[str, ...] = Field(
        default=(), description="import names that must be importable, e.g. ('faiss',)"
    )
    install: dict[str, str] = Field(
        default_factory=dict,
        description="import name -> what to pip install for it where the names differ, e.g. "
        "{'sklearn': 'scikit-learn'}; for `requires` and the parameters' `omniad_requires()`",
    )
    tags: tuple[str, ...] = ()
    demo: bool = Field(default=False, description="included in `omniad demo`")
    demo_params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError(
                f"id {value!r} must be lowercase and dotted with a prefix, like 'vision.patchcore'"
            )
        return value

    @field_validator("target", "params")
    @classmethod
    def _check_target(cls, value: str | None) -> str | None:
        if value is not None and not TARGET_PATTERN.match(value):
            raise ValueError(f"{value!r} is not a 'module:attr' import path")
        return value

    @property
    def prefix(self) -> str:
        return self.id.split(".", 1)[0]


class DetectorCard(ComponentCard):
    kind: ClassVar[Kind] = "detector"
    gpu: Literal["no", "optional", "required"] = Field(
        default="no", description="no = CPU only; optional = uses CUDA when present"
    )
    fit_on: Literal["train", "test"] = Field(
        default="train",
        description="train = fitted on the train split (normal data); test = unsupervised, "
        "fitted on the unlabeled test samples themselves (TSB-AD's protocol for such methods)",
    )
    sample_kind: str | None = Field(
        default=None,
        description="for modalities with several kinds of sample (video: 'frames' or 'features'): which "
        "one it holds or takes; modality pairing also matches it where both cards give one",
    )


class DatasetCard(ComponentCard):
    kind: ClassVar[Kind] = "dataset"
    localization: str | None = Field(
        default=None, description="what targets hold: 'pixel', 'timestep', 'frame', 'point', 'line'"
    )
    needs_data: bool = Field(default=False, description="reads files the user must provide")
    metrics: tuple[str, ...] = Field(
        default=(),
        description="metric ids used when a run names none, headline first (the dataset's usual "
        "protocol, e.g. VUS-PR for NAB, image AUROC for MVTec)",
    )
    sample_kind: str | None = Field(
        default=None,
        description="for modalities with several kinds of sample (video: 'frames' or 'features'): which "
        "one it holds or takes; modality pairing also matches it where both cards give one",
    )
    split_seed_param: str | None = Field(
        default=None,
        description="the integer parameter that seeds the dataset's random split or draw (usually 'seed'); "
        "a run with split_seed = 'run' sets it to each job's seed. None: the split is fixed by the data",
    )
    path_param: str | None = Field(
        default=None,
        description="the parameter that takes the user's file or folder; set on loaders that can open a bare "
        "path for `omniad fit / score / detect`",
    )
    reads: tuple[str, ...] = Field(
        default=(),
        description="what such a path may be: file suffixes ('.csv', '.log') and/or '/' for a folder; "
        "used to pick the loader for a bare path",
    )
    probe: str | None = Field(
        default=None,
        description="'module:attr' of a cheap function (path) -> float in [0, 1]: how sure this loader is that "
        "it reads the path (0 = it cannot); breaks ties between loaders that take the same suffix",
    )
    source_params: dict[str, Any] = Field(
        default_factory=dict,
        description="parameters set when a bare path is opened as a source, selecting the loader's 'everything' "
        "mode: every sample in the test split, train = those not labelled anomalous, labels optional "
        "(omniad.data.whole_subset)",
    )

    @field_validator("probe")
    @classmethod
    def _check_probe(cls, value: str | None) -> str | None:
        if value is not None and not TARGET_PATTERN.match(value):
            raise ValueError(f"probe {value!r} is not a 'module:attr' import path")
        return value

    @field_validator("reads")
    @classmethod
    def _check_reads(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [v for v in value if v != "/" and not (v.startswith(".") and len(v) > 1)]
        if bad:
            raise ValueError(f"reads entries must be file suffixes like '.csv' or '/' for a folder, got {bad}")
        return tuple(v.lower() for v in value)


class MetricCard(ComponentCard):
    kind: ClassVar[Kind] = "metric"
    level: Literal["sample", "local"] = Field(
        default="sample", description="sample = one value per sample; local = per element"
    )
    higher_is_better: bool = True
    short_name: str | None = Field(default=None, description="column header in reports")
    localization: tuple[str, ...] = Field(
        default=(),
        description="for local metrics: the dataset localization kinds it is defined on, e.g. "
        "('timestep',) for VUS-PR; empty = any dataset with localization (pooled metrics)",
    )
    honest: bool = Field(
        default=True,
        description="False for metrics known to flatter (point-adjusted F1); reports show "
        "them only beside an honest metric",
    )


CARD_TYPES: dict[Kind, type[ComponentCard]] = {
    "detector": DetectorCard,
    "dataset": DatasetCard,
    "metric": MetricCard,
}


#: pip names of common modules whose import name differs (a card's ``install`` overrides these)
PIP_NAMES = {"sklearn": "scikit-learn", "cv2": "opencv-python", "PIL": "pillow", "yaml": "pyyaml",
             "skimage": "scikit-image", "open3d": "open3d", "av": "av"}


def params_requirements(params: BaseModel | None) -> dict[str, str]:
    """Modules that parameter values ask for: import name -> pip requirement (empty: the import name).

    A parameter model (or one nested in it) may define ``omniad_requires(self) -> dict[str, str]``
    for requirements that depend on the values, e.g. the text embedding model 'minilm' needs its
    wheel unless a fallback is allowed.
    """
    out: dict[str, str] = {}
    if params is None:
        return out
    hook = getattr(params, "omniad_requires", None)
    if callable(hook):
        out.update(hook())
    for name in type(params).model_fields:
        value = getattr(params, name, None)
        if isinstance(value, BaseModel):
            out.update(params_requirements(value))
    return out


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a dotted name whose parent is missing or broken
        return False


def _pip_argument(requirement: str) -> str:
    return f"'{requirement}'" if any(c in requirement for c in "[]<>=!~; ") else requirement


def import_target(target: str, *, what: str) -> Any:
    """Import ``module:attr``; a failure names the component and how to fix it."""
    module_name, _, attr = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or module_name
        raise MissingDependencyError(
            f"{what}: cannot import {module_name!r} ({exc}); install the package that provides "
            f"{missing!r} or reinstall the plugin that registered it"
        ) from exc
    try:
        for part in attr.split("."):
            obj = getattr(obj, part)
    except AttributeError:
        raise ConfigError(f"{what}: {module_name!r} has no attribute {attr!r}; the registration is wrong") from None
    return obj


@dataclass
class Entry:
    """A registered component: its card and the plugin that registered it."""

    card: ComponentCard
    plugin: str
    plugin_version: str | None = None
    _cls: Any = field(default=None, repr=False, compare=False)

    @property
    def kind(self) -> Kind:
        return self.card.kind

    @property
    def id(self) -> str:
        return self.card.id

    def load(self) -> Any:
        """Import and return the implementing class (cached)."""
        if self._cls is None:
            what = f"{self.kind} {self.id!r} (plugin {self.plugin})"
            self.check_requires()
            self._cls = import_target(self.card.target, what=what)
        return self._cls

    def params_model(self) -> type[BaseModel]:
        if self.card.params is None:
            return NoParams
        return import_target(self.card.params, what=f"{self.kind} {self.id!r} parameters")

    def validate_params(self, params: dict[str, Any] | None) -> BaseModel:
        model = self.params_model()
        try:
            return model.model_validate(dict(params or {}))
        except ValidationError as exc:
            allowed = ", ".join(sorted(model.model_fields)) or "none"
            raise ConfigError(
                f"{self.kind} {self.id!r}: invalid parameters: {format_validation_error(exc)}; "
                f"allowed parameters: {allowed} (see `omniad show {self.id}`)"
            ) from None

    def requirements(self, params: BaseModel | None = None) -> dict[str, str]:
        """import name -> pip requirement, from the card's ``requires`` and the parameters' ``omniad_requires``."""
        wanted = {name: "" for name in self.card.requires}
        wanted.update(params_requirements(params))
        return {name: pip or self.card.install.get(name) or PIP_NAMES.get(name) or name.split(".")[0]
                for name, pip in wanted.items()}

    def missing_requirements(self, params: BaseModel | None = None) -> list[str]:
        """The import names this component (with ``params``) needs that are not installed."""
        return [name for name in self.requirements(params) if not _importable(name)]

    def missing_installs(self, params: BaseModel | None = None) -> list[str]:
        """What to pip install for the missing requirements (e.g. ``["omniad-logs[neural]"]``); [] when none."""
        wanted = self.requirements(params)
        return list(dict.fromkeys(wanted[name] for name in self.missing_requirements(params)))

    def requirement_problem(self, params: BaseModel | None = None) -> str | None:
        """One line naming what is missing and the pip command that installs it; None when nothing is."""
        missing = self.missing_requirements(params)
        if not missing:
            return None
        pips = " ".join(_pip_argument(pip) for pip in self.missing_installs(params))
        verb = "is" if len(missing) == 1 else "are"
        return (f"{self.kind} {self.id!r} (plugin {self.plugin}) needs {', '.join(missing)}, which {verb} not "
                f"installed; pip install {pips}")

    def check_requires(self, params: BaseModel | None = None) -> None:
        problem = self.requirement_problem(params)
        if problem:
            raise MissingDependencyError(problem)

    def create(self, params: dict[str, Any] | BaseModel | None = None, **kwargs: Any) -> Any:
        cls = self.load()
        return cls(params, component_id=self.id, **kwargs)


class Registry:
    """All registered components by kind and id."""

    def __init__(self) -> None:
        self._entries: dict[Kind, dict[str, Entry]] = {k: {} for k in KINDS}
        self._frozen = False

    def add(self, card: ComponentCard, *, plugin: str, plugin_version: str | None = None) -> Entry:
        if self._frozen:
            raise ConfigError(f"registry is frozen; cannot add {card.id!r} after discovery")
        table = self._entries[card.kind]
        if card.id in table:
            other = table[card.id]
            raise DuplicateComponentError(
                f"{card.kind} id {card.id!r} is registered twice: by plugin {other.plugin!r} "
                f"and by plugin {plugin!r}; rename one of them or disable a plugin with "
                "OMNIAD_DISABLE_PLUGINS"
            )
        entry = Entry(card=card, plugin=plugin, plugin_version=plugin_version)
        table[card.id] = entry
        return entry

    def freeze(self) -> Registry:
        self._frozen = True
        return self

    def get(self, kind: Kind, component_id: str) -> Entry:
        table = self._entries[kind]
        try:
            return table[component_id]
        except KeyError:
            close = difflib.get_close_matches(component_id, list(table), n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else (
                f"run `omniad list {kind}s` to see the {len(table)} registered {kind}s"
            )
            raise UnknownComponentError(f"unknown {kind} id {component_id!r}; {hint}") from None

    def __contains__(self, key: tuple[Kind, str]) -> bool:
        kind, component_id = key
        return component_id in self._entries[kind]

    def list(self, kind: Kind | None = None, *, modality: str | None = None) -> list[Entry]:
        kinds: Iterable[Kind] = KINDS if kind is None else (kind,)
        out = [e for k in kinds for e in self._entries[k].values()]
        if modality is not None:
            out = [e for e in out if e.card.modality in (modality, "any")]
        return sorted(out, key=lambda e: (e.kind, e.id))

    def __len__(self) -> int:
        return sum(len(t) for t in self._entries.values())


class Registrar:
    """What a ``omniad_register_*`` hook receives: adds cards of one kind for one plugin.

    ``prefixes`` are the id prefixes the plugin owns; an id outside them is refused here,
    inside the hook, so the error names the offending id instead of surfacing later as a
    clash with the plugin that really owns the prefix. ``None`` (a registrar made by hand)
    checks no prefix.
    """

    def __init__(
        self,
        registry: Registry,
        kind: Kind,
        plugin: str,
        plugin_version: str | None,
        prefixes: tuple[str, ...] | None = None,
    ) -> None:
        self._registry = registry
        self.kind = kind
        self.plugin = plugin
        self.plugin_version = plugin_version
        self.prefixes = prefixes
        self.added: list[str] = []

    def add(self, card: ComponentCard | None = None, /, **fields: Any) -> None:
        """``registry.add(DetectorCard(...))`` or ``registry.add(id=..., target=..., ...)``."""
        card_type = CARD_TYPES[self.kind]
        if card is None:
            try:
                card = card_type(**fields)
            except ValidationError as exc:
                raise ConfigError(
                    f"plugin {self.plugin!r}: invalid {self.kind} card "
                    f"{fields.get('id', '?')!r}: {format_validation_error(exc)}"
                ) from None
        elif fields:
            raise TypeError("pass either a card or keyword fields, not both")
        if not isinstance(card, card_type):
            raise ConfigError(
                f"plugin {self.plugin!r}: {type(card).__name__} {card.id!r} given to the "
                f"{self.kind} hook; register it from omniad_register_{card.kind}s"
            )
        if self.prefixes is not None and card.prefix not in self.prefixes:
            owned = ", ".join(f"'{p}.'" for p in self.prefixes)
            raise ConfigError(
                f"plugin {self.plugin!r}: {self.kind} id {card.id!r} is outside its id prefixes "
                f"({owned}); rename the id, or declare the prefix in the plugin module's "
                "OMNIAD_PREFIXES if no other plugin owns it"
            )
        if card.id in self.added:  # Registry.add would name this plugin twice
            raise DuplicateComponentError(
                f"plugin {self.plugin!r}: {self.kind} id {card.id!r} is registered twice; "
                "give each component its own id"
            )
        self._registry.add(card, plugin=self.plugin, plugin_version=self.plugin_version)
        self.added.append(card.id)
