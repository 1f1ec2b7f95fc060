"""Conformance checks for detectors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from omniad.data import Subset
from omniad.detector import Detector
from omniad.errors import ConfigError, DataError, NotFittedError, OmniadError
from omniad.plugins import get_registry
from omniad.registry import DetectorCard, Entry
from omniad.state import Array, Module, entry_spec, validate

_DISCOVERY: dict[tuple[str, tuple[str, ...]], str | None] = {}


def discovery_problem(plugin: str, heavy_modules: tuple[str, ...]) -> str | None:
    """Import-cost check of one plugin, in a fresh interpreter, cached per test session.

    Builds the registry and resolves the parameter model of every component the plugin
    registered, then reports which heavy modules got imported (None = none).
    """
    key = (plugin, tuple(heavy_modules))
    if key not in _DISCOVERY:
        code = (
            "import sys, omniad\n"
            "r = omniad.get_registry()\n"
            f"for e in r.list():\n    if e.plugin == {plugin!r}: e.params_model()\n"
            f"bad = [m for m in {tuple(heavy_modules)!r} if m in sys.modules]\n"
            "assert not bad, bad\n"
        )
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
        _DISCOVERY[key] = None if proc.returncode == 0 else f"imported heavy modules: {proc.stderr[-800:]}"
    return _DISCOVERY[key]


Tamper = tuple[str, Callable[[dict[str, np.ndarray], dict[str, Any]], None]]
_NOT_INT: tuple[Any, ...] = (0, -1, 10**7, "abc", 1.5, None, True)
_NOT_FLOAT: tuple[Any, ...] = ("abc", None, [1.0])
_NOT_OTHER: tuple[Any, ...] = (123, None, "abc")


def _set(key: str, value: Any) -> Callable[[dict[str, np.ndarray], dict[str, Any]], None]:
    def apply(arrays: dict[str, np.ndarray], plain: dict[str, Any]) -> None:
        plain[key] = value

    return apply


def _reshape(key: str, how: str) -> Callable[[dict[str, np.ndarray], dict[str, Any]], None]:
    def apply(arrays: dict[str, np.ndarray], plain: dict[str, Any]) -> None:
        a = arrays[key]
        if how == "wider":
            pad = np.zeros((*a.shape[:-1], 1), dtype=a.dtype) if a.ndim else np.zeros(1, dtype=a.dtype)
            arrays[key] = np.concatenate([a.reshape(a.shape or (1,)), pad], axis=-1)
        elif how == "shorter":
            arrays[key] = np.ascontiguousarray(a[:-1])
        elif how == "flat":
            arrays[key] = np.ascontiguousarray(a.reshape(-1))
        else:  # nan
            b = a.copy()
            b.reshape(-1)[0] = np.nan
            arrays[key] = b

    return apply


def tamperings(arrays: dict[str, np.ndarray], plain: dict[str, Any], spec: Any, limit: int) -> list[Tamper]:
    """Edits of a saved state that a hand, a bug or an attacker could make, spread over its entries.

    Each entry gets its first edit before any gets a second, so a big torch state dict
    cannot crowd out the small scalars where the interesting bounds live.
    """
    per_key: list[list[Tamper]] = []
    for key, value in sorted(plain.items()):
        if isinstance(value, bool):
            bad: tuple[Any, ...] = ("yes", 2, None)
        elif isinstance(value, int):
            bad = _NOT_INT
        elif isinstance(value, float):
            bad = _NOT_FLOAT
        else:
            bad = _NOT_OTHER
        per_key.append([(f"state.json {key!r} = {v!r}", _set(key, v)) for v in bad if v != value])
    modules_seen: set[str] = set()
    for key, value in sorted(arrays.items()):
        found = entry_spec(spec or {}, key)
        declared = found[1] if found else None
        if found is not None and isinstance(declared, Module):
            if found[0] in modules_seen:  # one array per torch module: load_state_dict checks the rest
                continue
            modules_seen.add(found[0])
        kinds = ["wider", "shorter"] if value.ndim and value.shape[0] > 1 else ["wider"]
        if value.ndim > 1:
            kinds.append("flat")
        finite = getattr(declared, "finite", True)
        if value.dtype.kind == "f" and value.size and finite:
            kinds.append("nan")
        per_key.append([(f"arrays {key!r} {e} (shape {value.shape})", _reshape(key, e)) for e in kinds])
    out: list[Tamper] = []
    depth = 0
    while len(out) < limit and any(depth < len(edits) for edits in per_key):
        for edits in per_key:
            if depth < len(edits) and len(out) < limit:
                out.append(edits[depth])
        depth += 1
    return out


def tampering_problems(det: Detector, probe: Any, workdir: Path, limit: int = 30) -> list[str]:
    """Save ``det``, load edited copies (``tamperings``) and say which ones were not handled clearly.

    Each copy must fail at load with a DataError naming its folder, or load and then score
    ``probe`` normally or with an OmniadError; anything else is a problem, returned as text.
    """
    from safetensors.numpy import load_file, save_file

    saved = det.save(workdir / "model")
    arrays = load_file(str(saved / "arrays.safetensors"))
    plain = json.loads((saved / "state.json").read_text())
    problems = []
    for i, (name, apply) in enumerate(tamperings(arrays, plain, type(det).declared_state(), limit)):
        folder = workdir / f"tampered-{i}"
        shutil.copytree(saved, folder)
        a2, p2 = dict(arrays), json.loads(json.dumps(plain))
        apply(a2, p2)
        save_file({k: np.ascontiguousarray(v) for k, v in a2.items()}, str(folder / "arrays.safetensors"))
        (folder / "state.json").write_text(json.dumps(p2))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                loaded = Detector.load(folder, device="cpu")
        except DataError as exc:
            if str(folder) not in str(exc):
                problems.append(f"{name}: the load error does not name the folder: {exc}")
            elif "\n" in str(exc).strip():
                problems.append(f"{name}: the load error is not one line: {str(exc)[:300]!r}")
            continue
        except Exception as exc:
            problems.append(f"{name}: load raised {type(exc).__name__}: {exc} (expected a DataError)")
            continue
        try:
            loaded.score(probe)
        except OmniadError:
            continue
        except Exception as exc:
            problems.append(
                f"{name}: load accepted it, then score raised {type(exc).__name__}: "
                f"{str(exc)[:200]}; check it at load (state_spec or check_state)"
            )
    return problems


class DetectorConformance:
    """Subclass and set ``detector_id``; override ``make_subset`` unless ``dataset_id`` is set."""

    detector_id: ClassVar[str]
    params: ClassVar[dict[str, Any]] = {}
    #: a registered dataset to draw test data from when ``make_subset`` is not overridden
    dataset_id: ClassVar[str | None] = None
    dataset_params: ClassVar[dict[str, Any]] = {}
    #: score tolerance for save/load and seeded reruns (GPU kernels may need more)
    atol: ClassVar[float] = 1e-6
    #: set False for detectors whose scores legitimately vary between seeded runs
    deterministic: ClassVar[bool] = True
    #: modules that must not be imported by discovering this detector's plugin
    heavy_modules: ClassVar[tuple[str, ...]] = ("torch", "timm", "transformers", "tensorflow")
    #: how many edited copies of a saved state ``test_tampered_state_fails_at_load`` tries
    max_tamperings: ClassVar[int] = 30

    # -- hooks for subclasses ------------------------------------------------------------
    def make_subset(self) -> Subset:
        if self.dataset_id is None:
            raise NotImplementedError("set dataset_id or override make_subset()")
        subset = next(
            iter(get_registry().get("dataset", self.dataset_id).create(self.dataset_params).subsets())
        )
        return subset

    def make_bad_samples(self) -> list[Any]:
        """Samples the detector must reject with an OmniadError (default: NaN-filled copies)."""
        sample = np.asarray(self._subset().test.samples[0], dtype=np.float64)
        return [np.full_like(sample, np.nan)]

    # -- fixtures / helpers -------------------------------------------------------------
    def _subset(self) -> Subset:
        if not hasattr(self, "_cached_subset"):
            self._cached_subset = self.make_subset()
        return self._cached_subset

    def entry(self) -> Entry:
        return get_registry().get("detector", self.detector_id)

    def new(self, **kwargs: Any) -> Detector:
        return self.entry().create(dict(self.params), device="cpu", **kwargs)

    def fitted(self, seed: int = 0) -> Detector:
        subset = self._subset()
        card = self.entry().card
        assert isinstance(card, DetectorCard)
        data = subset.train.samples if card.fit_on == "train" else subset.test.samples
        return self.new(seed=seed).fit(data)

    # -- registration -------------------------------------------------------------------
    def test_registered_with_valid_card(self) -> None:
        entry = self.entry()
        assert isinstance(entry.card, DetectorCard)
        assert entry.card.summary.strip(), "card needs a one-line summary"
        cls = entry.load()
        assert issubclass(cls, Detector), f"{entry.card.target} is not an omniad Detector"

    def test_params_model_matches_class(self) -> None:
        entry = self.entry()
        assert entry.params_model() is entry.load().Params, (
            "the card's params target must be the class's Params model"
        )

    def test_discovery_imports_no_heavy_modules(self) -> None:
        entry = self.entry()
        problem = discovery_problem(entry.plugin, self.heavy_modules)
        assert problem is None, f"discovering plugin {entry.plugin} (for {entry.id}) {problem}"

    def test_unknown_parameter_rejected(self) -> None:
        with pytest.raises(ConfigError, match="unknown parameter"):
            self.entry().create({**self.params, "no_such_parameter_xyz": 1}, device="cpu")

    # -- behaviour ----------------------------------------------------------------------
    def test_fit_score_shapes(self) -> None:
        subset = self._subset()
        scores = self.fitted().score(subset.test.samples)
        assert scores.sample.shape == (len(subset.test),)
        assert np.all(np.isfinite(scores.sample))
        if scores.local is not None and subset.test.targets is not None:
            for target, local in zip(subset.test.targets, scores.local, strict=True):
                assert np.shape(local) == np.shape(target), "localization map must match target shape"

    def test_scores_not_constant(self) -> None:
        scores = self.fitted().score(self._subset().test.samples)
        if len(scores.sample) > 1:
            assert np.ptp(scores.sample) > 0, "all test samples got the same score"
        else:  # one sample (a single series): its localization scores must vary
            assert scores.local is not None and np.ptp(scores.local[0]) > 0, (
                "the one test sample got constant scores"
            )

    def test_save_load_round_trip(self, tmp_path: Path) -> None:
        det = self.fitted()
        test = self._subset().test.samples
        before = det.score(test)
        det.save(tmp_path / "model")
        loaded = Detector.load(tmp_path / "model", device="cpu")
        after = loaded.score(test)
        np.testing.assert_allclose(after.sample, before.sample, atol=self.atol, rtol=1e-5)
        if before.local is not None:
            assert after.local is not None
            for a, b in zip(after.local, before.local, strict=True):
                np.testing.assert_allclose(a, b, atol=self.atol, rtol=1e-5)

    def test_state_is_declared(self) -> None:
        """Every saved entry is declared (``state_spec``), and the genuine state meets its declaration."""
        det = self.fitted()
        spec = type(det).declared_state()
        assert spec is not None, (
            f"{self.detector_id}: declare the saved state with state_spec = omniad.state.declare(...), "
            "so load() can check a model folder before using it (docs/plugin-authors.md)"
        )
        state = det.get_state()
        undeclared = sorted(k for k in state if entry_spec(spec, k) is None)
        assert not undeclared, f"{self.detector_id}: get_state() returns undeclared entries {undeclared}"
        arrays = [k for k in state if isinstance(state[k], np.ndarray)]
        wrong = [k for k in arrays if not isinstance((entry_spec(spec, k) or ("", None))[1], (Array, Module))]
        assert not wrong, f"{self.detector_id}: entries {wrong} are arrays but not declared as Array/Module"
        validate(
            spec,
            json.loads(json.dumps({k: v for k, v in state.items() if k not in arrays}))
            | {k: state[k] for k in arrays},
            det.params,
            where=self.detector_id,
        )

    def test_tampered_state_fails_at_load(self, tmp_path: Path) -> None:
        """An edited model folder fails at load with a DataError, or loads and then scores or fails clearly.

        Never a raw exception, never a load that passes and then breaks inside numpy or
        torch at score time: entries inconsistent with each other or with the parameters
        must be caught by load; a consistent edit that no longer fits the data (a bank one
        column wider than the input) may surface as the detector's own OmniadError at score.
        """
        samples = self._subset().test.samples
        probe = [samples[i] for i in range(min(3, len(samples)))]
        problems = tampering_problems(self.fitted(), probe, tmp_path, self.max_tamperings)
        assert not problems, "\n".join(problems)

    def test_state_cannot_set_undeclared_attributes(self, tmp_path: Path) -> None:
        """A ``params`` or ``score`` entry added to state.json never replaces the detector's own."""
        det = self.fitted()
        saved = det.save(tmp_path / "model")
        plain = json.loads((saved / "state.json").read_text())
        plain.update({"params": {"x": 1}, "score": 1, "_fitted": False})
        (saved / "state.json").write_text(json.dumps(plain))
        try:
            with warnings.catch_warnings(record=True):
                warnings.simplefilter("always")
                loaded = Detector.load(saved, device="cpu")
        except DataError:
            return
        assert loaded.params == det.params
        assert callable(loaded.score) and loaded.is_fitted

    def test_seed_determinism(self) -> None:
        if not self.deterministic:
            pytest.skip(f"{self.detector_id} declares itself non-deterministic")
        test = self._subset().test.samples
        a = self.fitted(seed=123).score(test)
        b = self.fitted(seed=123).score(test)
        np.testing.assert_allclose(a.sample, b.sample, atol=self.atol, rtol=1e-5)

    # -- bad input ----------------------------------------------------------------------
    def test_score_before_fit_raises(self) -> None:
        with pytest.raises(NotFittedError):
            self.new().score(self._subset().test.samples)

    def test_empty_input_raises(self) -> None:
        with pytest.raises(DataError):
            self.new().fit([])

    def test_bad_samples_raise_clear_error(self) -> None:
        det = self.fitted()
        with pytest.raises(OmniadError):
            det.score(self.make_bad_samples())
