"""omniad-logs beside omniad-pyod: the log count-vector detectors delegate to PyOD and persist without pickle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from omniad.detector import Detector
from omniad.plugins import get_registry

pytest.importorskip("omniad_pyod", reason="omniad-pyod is not installed; this check needs every package")
pytest.importorskip("omniad_logs", reason="omniad-logs is not installed")

from omniad_logs.session import LogSession


def sessions(n: int, seed: int) -> list[LogSession]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        k = int(rng.integers(1, 4))
        out.append(LogSession(id=f"s{i}", events=("open", *(["read", "ack"] * k), "close")))
    return out


def anomalies() -> list[LogSession]:
    return [
        LogSession(id="no-close", events=("open", "read", "ack", "read", "ack", "read", "ack", "read")),
        LogSession(id="error", events=("open", "read", "error", "error", "close")),
    ]


def create(detector_id: str, params: dict[str, Any]) -> Any:
    return get_registry().get("detector", detector_id).create(params, device="cpu", seed=0)


@pytest.mark.parametrize(
    ("detector_id", "params", "pyod_id"),
    [
        ("logs.iforest", {"n_estimators": 30}, "pyod.iforest"),
        ("logs.ocsvm", {}, "pyod.ocsvm"),
        ("logs.counts", {"detector": "pyod.ecod"}, "pyod.ecod"),
    ],
)
def test_pyod_path_scores_like_pyod_and_round_trips(
    tmp_path: Path, detector_id: str, params: dict[str, Any], pyod_id: str
) -> None:
    train, test = sessions(60, 0), [*sessions(10, 1), *anomalies()]
    det = create(detector_id, params).fit(train)
    if detector_id != "logs.counts":
        assert det.backend_ == "pyod"
        assert det.adjusted_params["backend"] == {"requested": "auto", "used": "pyod", "why": "omniad-pyod is installed"}
    assert det.inner_.detector_id == pyod_id
    # the same PyOD detector on the same vectors, built by hand
    inner_params = det._pyod_params() if detector_id != "logs.counts" else {}
    ref = create(pyod_id, inner_params).fit(det.features_.transform(train, "t"))
    before = det.score(test)
    np.testing.assert_allclose(before.sample, ref.score(det.features_.transform(test, "t")).sample)
    det.save(tmp_path / "m")
    assert not any(p.suffix in (".pkl", ".pickle") for p in (tmp_path / "m").iterdir())
    after = Detector.load(tmp_path / "m", device="cpu").score(test)
    np.testing.assert_allclose(after.sample, before.sample)


def test_pyod_and_sklearn_iforest_rank_alike() -> None:
    """Both backends wrap scikit-learn's forest; seeded alike they give the same ranking."""
    train, test = sessions(80, 0), [*sessions(20, 1), *anomalies()]
    via_pyod = create("logs.iforest", {"backend": "pyod", "n_estimators": 50}).fit(train).score(test).sample
    via_sklearn = create("logs.iforest", {"backend": "sklearn", "n_estimators": 50}).fit(train).score(test).sample
    np.testing.assert_array_equal(np.argsort(via_pyod, kind="stable"), np.argsort(via_sklearn, kind="stable"))
