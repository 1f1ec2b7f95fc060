"""omniad-text beside omniad-pyod: PyOD detectors on the cached text embeddings, pickle-free."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from omniad.detector import Detector
from omniad.plugins import get_registry

pytest.importorskip("omniad_pyod", reason="omniad-pyod is not installed; this check needs every package")
pytest.importorskip("omniad_text", reason="omniad-text is not installed")

_CACHE = Path(tempfile.mkdtemp(prefix="omniad-text-integration-"))
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
EMBEDDING = {"model": "tiny-random", "cache_dir": str(_CACHE)}


def subset() -> Any:
    return get_registry().get("dataset", "text.synthetic").create(
        {"n_train": 30, "n_test_normal": 8, "n_test_anomalous": 8}).load()[0]


def create(detector_id: str, params: dict[str, Any]) -> Any:
    return get_registry().get("detector", detector_id).create(params, device="cpu", seed=0)


@pytest.mark.parametrize(("pyod_id", "params"), [("pyod.ecod", {}), ("pyod.ocsvm", {}), ("pyod.iforest", {"n_estimators": 20})])
def test_pyod_on_embeddings_scores_like_pyod_and_round_trips(tmp_path: Path, pyod_id: str, params: dict[str, Any]) -> None:
    from omniad_text.embeddings import Embedder

    s = subset()
    det = create("text.embedded", {"embedding": EMBEDDING, "detector": pyod_id, "detector_params": params})
    before = det.fit(s.train.samples).score(s.test.samples)
    assert det.inner_.detector_id == pyod_id
    embedder = Embedder(EMBEDDING, device="cpu")  # the same vectors, straight from the cache
    ref = create(pyod_id, params).fit(embedder.embed(s.train.samples)).score(embedder.embed(s.test.samples))
    np.testing.assert_allclose(before.sample, ref.sample, rtol=1e-6)
    det.save(tmp_path / "m")
    assert not any(p.suffix in (".pkl", ".pickle") for p in (tmp_path / "m").iterdir())
    after = Detector.load(tmp_path / "m", device="cpu").score(s.test.samples)
    np.testing.assert_allclose(after.sample, before.sample, rtol=1e-6)


def test_text_ecod_equals_omniad_pyod_ecod() -> None:
    """Both score one text at a time against the training ECDFs: the same numbers."""
    s = subset()
    own = create("text.ecod", {"embedding": EMBEDDING}).fit(s.train.samples).score(s.test.samples).sample
    via = create("text.embedded", {"embedding": EMBEDDING, "detector": "pyod.ecod"})
    np.testing.assert_allclose(via.fit(s.train.samples).score(s.test.samples).sample, own, rtol=1e-9)
