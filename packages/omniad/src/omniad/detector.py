"""The detector contract: ``fit`` on normal data, ``score`` anything, ``save``/``load`` safely.

Subclasses implement ``_fit`` and ``_score`` and list the attributes that make up their
fitted state; the base class does input checks, seeding, device choice, thresholds and
persistence, so every detector fails the same clear way on bad input.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import BaseModel

from omniad import persistence
from omniad.component import Component
from omniad.data import Samples
from omniad.device import check_device_request, resolve_device, seed_everything
from omniad.errors import ConfigError, DataError, NotFittedError, OmniadError
from omniad.scores import Scores

if TYPE_CHECKING:
    from omniad.decision import Decisions


def _check_samples(samples: Any, where: str) -> Any:
    if (
        isinstance(samples, (str, bytes))
        or not hasattr(samples, "__len__")
        or not hasattr(samples, "__getitem__")
    ):
        raise DataError(
            f"{where}: expected a sequence of samples (a list, or an array with one sample per row), got "
            f"{type(samples).__name__}; wrap a single sample in a list, or pass a file or folder path"
        )
    if len(samples) == 0:
        raise DataError(f"{where}: got no samples; pass at least one sample")
    return samples


def _build_limit(
    spec: Mapping[str, Any] | None, arrays: Mapping[str, np.ndarray]
) -> AbstractContextManager[None]:
    """``torchstate.build_limit`` where the detector holds a torch network; nothing (no import) elsewhere."""
    import sys

    from omniad.state import Module

    torch_state = spec is not None and any(isinstance(entry, Module) for entry in spec.values())
    if not torch_state and "torch" not in sys.modules:
        return nullcontext()
    try:
        import torch  # noqa: F401  (build_limit imports it on entry, where ImportError would escape)

        from omniad.torchstate import build_limit

        return build_limit(len(arrays), sum(int(a.size) for a in arrays.values()))
    except ImportError:  # a declared network without torch installed fails in set_state, saying so
        return nullcontext()


class Detector(Component, ABC):
    """Base class for every omniad detector."""

    kind: ClassVar[str] = "detector"
    #: attributes (set by ``_fit``) saved by ``save``; numpy arrays go to safetensors.
    state_attributes: ClassVar[tuple[str, ...]] = ()
    #: the fit draws from torch's random generator (weights, batch order): ``fit`` then imports and seeds
    #: torch before ``_fit`` even when nothing has imported it yet (see ``seed_everything``)
    uses_torch: ClassVar[bool] = False

    def __init__(
        self,
        params: BaseModel | Mapping[str, Any] | None = None,
        *,
        device: str | None = "auto",
        seed: int | None = None,
        component_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(params, component_id=component_id, **kwargs)
        self._device_request = check_device_request(device)
        self._device: str | None = None
        self.seed = seed
        self.threshold_: float | None = None
        #: decision thresholds per level ("sample", "element") chosen at fit time; saved in the model
        self.thresholds_: dict[str, Any] = {}
        #: how the fit data was read (loader id, parameters, loader state), so new files are read alike
        self.source_: dict[str, Any] | None = None
        self._fitted = False
        #: defaults lowered to what the data allows, by ``_limit``: name -> requested, used, why
        self.adjusted_params: dict[str, dict[str, Any]] = {}

    @property
    def device(self) -> str:
        """Resolved on first use, so numpy-only detectors never pay for importing torch."""
        if self._device is None:
            self._device = resolve_device(self._device_request)
        return self._device

    @property
    def device_request(self) -> str:
        return self._device_request

    # -- the contract -------------------------------------------------------------------
    @abstractmethod
    def _fit(self, samples: Sequence[Any]) -> None:
        """Learn from (mostly) normal samples."""

    @abstractmethod
    def _score(self, samples: Sequence[Any]) -> Scores:
        """Return one score per sample (and localization scores where the method has them)."""

    def _coerce(self, samples: Any, where: str) -> Any:
        """Turn what a user passed into a sequence of samples; modalities override this.

        A series package wraps a bare ``(T,)`` array or a DataFrame into one series, an image
        package a single ``(H, W, 3)`` array into one image, and so on, each failing with a
        message that says what to pass. The default leaves ``samples`` as they are.
        """
        return samples

    def _as_samples(self, samples: Any, where: str, role: str) -> Any:
        """What ``fit`` / ``score`` work on: a path is read with the loader that reads it."""
        import os

        if isinstance(samples, (str, os.PathLike)):
            from omniad.sources import samples_of
            from omniad.workflow import read_source

            read = read_source(samples, self, role)
            samples = [s for _, split in read.parts for s in samples_of(split)]
            if role == "fit":
                self.source_ = read.source_json()
        return _check_samples(self._coerce(samples, where), where)

    def fit(self, samples: Samples | str | os.PathLike[str]) -> Detector:
        """Learn from (mostly) normal samples: a sequence, or a file or folder a loader reads."""
        checked = self._as_samples(samples, f"{self.where}.fit", "fit")
        seed_everything(self.seed, torch=self.uses_torch)
        self.adjusted_params = {}
        self._fit(checked)
        self._fitted = True
        return self

    def score(self, samples: Samples | str | os.PathLike[str]) -> Scores:
        """One score per sample (higher = more anomalous), with per-element scores where the method has them."""
        where = f"{self.where}.score"
        self._require_fitted(where)
        checked = self._as_samples(samples, where, "score")
        scores = self._score(checked)
        if not isinstance(scores, Scores):
            scores = Scores(sample=np.asarray(scores))
        return scores.validate(len(checked), where)

    @property
    def is_fitted(self) -> bool:
        return self._fitted

    def _require_fitted(self, where: str) -> None:
        if not self._fitted:
            raise NotFittedError(f"{where}: the detector is not fitted; call fit() first (or load())")

    def report_progress(self, done: int, total: int | None = None, what: str = "epochs") -> None:
        """Say how far a long fit (or score) has got, e.g. once per epoch; shown by the runner's CLI.

        Costs a function call when nobody listens, so call it freely from training loops.
        """
        from omniad.progress import report

        report(self.where, done, total, what)

    def provenance(self) -> dict[str, Any]:
        """Facts about how this fit ran that the parameters do not show, for the run record.

        E.g. which embedding model and backend produced the vectors, cache hits, how many texts
        were truncated, which library a detector delegated to. JSON-ready values only.
        """
        return {}

    def _limit(self, name: str, value: int, limit: int, why: str) -> int:
        """``value`` of parameter ``name`` if the data allows it (``value <= limit``).

        Silently running k=198 under a label that says k=1e9 reports an experiment that did
        not happen, so a value the user chose fails, naming the limit. Only the parameter's
        default may be lowered (tiny demo and test subsets), and that is recorded in
        ``adjusted_params``, which the runner copies into the subset record.
        ``why`` completes "<name>=<value> but ...", e.g. "this subset has only 199 training
        windows".
        """
        if value <= limit:
            return value
        if limit < 1:
            raise DataError(f"{self.where}: {why}, too few for any {name}; pass more data")
        field = type(self.params).model_fields.get(name)
        if field is None or field.is_required() or value != field.default:
            raise DataError(f"{self.where}: {name}={value} but {why}; use at most {limit}")
        self.adjusted_params[name] = {"requested": value, "used": limit, "why": why}
        return limit

    # -- thresholds ---------------------------------------------------------------------
    def calibrate(self, normal_samples: Samples, quantile: float = 0.99) -> float:
        """Set the decision thresholds (sample, and element where scored) from held-out normal samples."""
        from omniad.decision import DecisionRule, calibrate
        from omniad.metrics.thresholds import quantile_threshold

        scores = self.score(normal_samples)
        self.threshold_ = quantile_threshold(scores.sample, quantile)
        self.thresholds_ = calibrate(scores, DecisionRule("quantile", quantile), "given normal")
        return self.threshold_

    def decide(self, samples: Samples | str | os.PathLike[str]) -> Decisions:
        """Scores plus 0/1 decisions per sample and per element, at the thresholds chosen at fit time."""
        from omniad.decision import apply

        if not self.thresholds_:
            raise NotFittedError(
                f"{self.where}.decide: no thresholds; fit with omniad.fit(...) or `omniad fit` (they choose "
                "them), or call calibrate() with normal samples"
            )
        return apply(self.score(samples), self.thresholds_)

    def predict(self, samples: Samples) -> np.ndarray:
        """0/1 label per sample using the calibrated threshold."""
        if self.threshold_ is None:
            raise NotFittedError(
                f"{self.where}.predict: no threshold; call calibrate() with normal samples or set threshold_"
            )
        return (self.score(samples).sample > self.threshold_).astype(np.int8)

    # -- persistence --------------------------------------------------------------------
    #: what ``get_state`` returns and ``load`` accepts back, ``omniad.state.declare(key=spec, ...)`` with
    #: ``Array``, ``Int``, ``Float``, ``Str``, ``Bool``, ``Json``, ``Module`` specs; merged over base classes.
    state_spec: ClassVar[Mapping[str, Any] | None] = None

    @classmethod
    def declared_state(cls) -> dict[str, Any] | None:
        """The merged ``state_spec`` of this class and its bases; None where no class declares one."""
        from omniad.state import merged_spec

        return merged_spec(cls)

    def check_state(self, state: dict[str, Any]) -> None:
        """Relations between saved entries that ``state_spec`` cannot express; raise ``DataError``.

        Called by ``load`` after the declared checks and before ``set_state``.
        """

    def get_state(self) -> dict[str, Any]:
        """Fitted state as numpy arrays and JSON values. Override for non-trivial state."""
        missing = [a for a in self.state_attributes if not hasattr(self, a)]
        if missing:
            raise NotFittedError(f"{self.where}: state attributes {missing} are not set")
        return {a: getattr(self, a) for a in self.state_attributes}

    def _settable(self, key: str) -> bool:
        """Whether the base ``set_state`` may set attribute ``key``: declared state, never anything else.

        A hand-edited ``state.json`` holding ``params`` or ``score`` must not replace the
        detector's parameters or methods.
        """
        spec = type(self).declared_state()
        if spec is not None:
            return key in spec
        if self.state_attributes:
            return key in self.state_attributes
        return (
            key.endswith("_")
            and not key.startswith("_")
            and key.isidentifier()
            and not hasattr(type(self), key)
        )

    def set_state(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            if not self._settable(key):
                raise DataError(
                    f"{self.where}: saved state entry {key!r} is not part of this detector's state"
                )
            setattr(self, key, value)

    def save(self, path: str | Path) -> Path:
        self._require_fitted(f"{self.where}.save")
        state = self.get_state()
        arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
        plain = {k: v for k, v in state.items() if not isinstance(v, np.ndarray)}
        header = {
            "kind": "detector",
            "component_id": self.component_id,
            "class": f"{type(self).__module__}:{type(self).__qualname__}",
            "params": self.params.model_dump(mode="json"),
            "seed": self.seed,
            "threshold": self.threshold_,
            "thresholds": {level: t.to_json() for level, t in self.thresholds_.items()},
            "state_keys": sorted(state),  # checked by load(), so a truncated folder fails there
        }
        return persistence.save_dir(path, header, arrays, plain, source=self.source_)

    @classmethod
    def load(cls, path: str | Path, *, device: str | None = "auto") -> Detector:
        """Load a saved detector. ``Detector.load`` resolves the class through the registry.

        Everything read is checked before it is used: the header's fields, the parameters
        against the class's model, and the saved state against ``state_spec`` (types, shapes
        consistent with each other and with the parameters, bounds); entries the class does
        not declare are left out with a warning. So a truncated, foreign or edited folder
        fails here, naming the folder and the entry, never later inside numpy or torch.
        """
        import warnings

        from omniad.state import StateError, validate

        header, arrays, plain = persistence.load_dir(path)
        if header.get("kind", "detector") != "detector":
            raise DataError(f"{path}: holds a saved {header.get('kind')!r}, not a detector")
        target_cls = cls._class_for(header, path)
        try:
            det = target_cls(
                header.get("params", {}),
                device=device,
                seed=header.get("seed"),
                component_id=header.get("component_id"),
            )
        except ConfigError as exc:
            raise DataError(
                f"{path}: saved parameters do not fit {target_cls.__qualname__} ({exc}); re-save the model"
            ) from None
        persistence.check_state(path, target_cls._saved_keys(header), arrays, plain, det.where)
        state = {**plain, **arrays}
        spec = target_cls.declared_state()
        if spec is not None:
            try:
                state, ignored = validate(spec, state, det.params, where=str(path))
            except StateError as exc:
                raise DataError(
                    f"{exc}; the folder was edited or written by another version of "
                    f"{det.component_id or target_cls.__qualname__}, re-save the model"
                ) from None
            if ignored:
                warnings.warn(
                    f"{path}: ignored saved state {', '.join(repr(k) for k in sorted(ignored))}, "
                    f"which {det.where} does not declare",
                    UserWarning,
                    stacklevel=2,
                )
        try:
            with _build_limit(spec, arrays):
                det.check_state(state)
                det.set_state(state)
        except OmniadError as exc:
            if str(path) in str(exc):
                raise
            raise DataError(f"{path}: {exc}") from None
        except (KeyError, AttributeError, ValueError, TypeError, RuntimeError, IndexError) as exc:
            # one line: torch and numpy errors can run to pages
            lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
            text = " ".join(lines[:2])[:300]
            raise DataError(
                f"{path}: saved state does not fit {det.where} ({type(exc).__name__}: {text}); re-save the model"
            ) from None
        det.threshold_ = header.get("threshold")
        from omniad.decision import Threshold

        saved = header.get("thresholds") or {}
        det.thresholds_ = {
            level: Threshold.from_json(t, f"{path}/{persistence.HEADER_FILE} thresholds.{level}")
            for level, t in saved.items()
            if level in ("sample", "element")
        }
        det.source_ = persistence.read_source(path)
        det._fitted = True
        return det

    @classmethod
    def _saved_keys(cls, header: dict[str, Any]) -> list[str]:
        """State entries a saved folder must hold: listed in its header, or (older saves) declared."""
        keys = header.get("state_keys")
        if isinstance(keys, list) and all(isinstance(k, str) for k in keys):
            return keys
        return list(cls.state_attributes) if cls.get_state is Detector.get_state else []

    @classmethod
    def _class_for(cls, header: dict[str, Any], path: str | Path) -> type[Detector]:
        saved = header.get("class", "")
        if cls is not Detector:
            if saved != f"{cls.__module__}:{cls.__qualname__}":
                raise DataError(f"{path}: holds a {saved!r}, not a {cls.__qualname__}; use Detector.load()")
            return cls
        component_id = header.get("component_id")
        if component_id:
            from omniad.plugins import get_registry

            return get_registry().get("detector", component_id).load()
        # Only classes that are registered detectors may be named by a file.
        from omniad.plugins import get_registry

        for entry in get_registry().list("detector"):
            if entry.card.target == saved:
                return entry.load()
        module, _, attr = saved.partition(":")
        raise DataError(
            f"{path}: saved class {saved!r} is not a registered detector; load it with "
            f"{attr or 'TheClass'}.load(path) after importing {module or 'its module'}"
        )
