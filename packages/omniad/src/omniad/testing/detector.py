"""Conformance checks for detectors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from omniad.data import Subset
from omniad.detector import Detector
from omniad.errors import ConfigError, DataError, NotFittedError, OmniadError
from omniad.plugins import get_registry
from omniad.registry import DetectorCard, Entry

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

    # -- hooks for subclasses ------------------------------------------------------------
    def make_subset(self) -> Subset:
        if self.dataset_id is None:
            raise NotImplementedError("set dataset_id or override make_subset()")
        subset = next(iter(get_registry().get("dataset", self.dataset_id).create(self.dataset_params).subsets()))
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
            assert scores.local is not None and np.ptp(scores.local[0]) > 0, "the one test sample got constant scores"

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
