"""Count-vector and graph detectors on ``logs.synthetic`` (parsed lines with parameters and per-line truth).

The conformance kit runs GLAD on graphs with entity nodes (the hand-built sessions of
``test_logs_count_conformance`` are small); the levels check that the per-line scores point
at the injected lines: pooled line AUROC (``core.local_auroc``) and the mean AUROC inside
anomalous sessions (``logs.session_line_auroc``). Levels = measured (docs/detectors-count.md)
minus a margin of at least 0.05: the count-vector scores are snapped (``count_base.snap``), so
they no longer move with the BLAS kernels (``logs.pca`` read 0.685 on one machine and 0.604 on
another before); GLAD's float32 network still does (0.527 / 0.553 / 0.560 measured with
different CPU kernels), so its levels keep a wider margin.
"""

from __future__ import annotations

import tempfile
from typing import Any, ClassVar

import pytest

from omniad import metrics as M
from omniad.data import Subset
from omniad.plugins import get_registry
from omniad.testing import DetectorConformance

ROOT = tempfile.mkdtemp(prefix="omniad-logs-count-")
_CACHE: dict[int, Subset] = {}


def synthetic(n_sessions: int) -> Subset:
    if n_sessions not in _CACHE:
        ds = get_registry().get("dataset", "logs.synthetic").create({"n_sessions": n_sessions, "root": ROOT})
        _CACHE[n_sessions] = next(iter(ds.subsets()))
    return _CACHE[n_sessions]


class TestGLADWithEntities(DetectorConformance):
    detector_id = "logs.glad"
    params: ClassVar[dict[str, Any]] = {"epochs": 3, "hidden": 8}
    atol: ClassVar[float] = 1e-5

    def make_subset(self) -> Subset:
        return synthetic(60)

    def make_bad_samples(self) -> list[Any]:
        return [{"events": ["E1"]}]

    def test_graphs_have_entity_nodes(self) -> None:
        det = self.fitted()
        assert det.graph_mode_ == "events+entities"


# id, params, sample AUROC, pooled line AUROC, per-session line AUROC (all at least)
LEVELS = [
    ("logs.pca", {}, 0.73, 0.78, 0.60),  # measured 0.783 / 0.833 / 0.650 (snapped: the same with every BLAS kernel)
    ("logs.log_clustering", {}, 0.73, 0.82, 0.62),  # 0.784 / 0.871 / 0.675
    ("logs.invariant_mining", {}, 0.58, 0.57, 0.57),  # 0.633 / 0.622 / 0.624
    ("logs.glad", {}, 0.75, 0.78, 0.45),  # 0.808-0.818 / 0.841-0.861 / 0.527-0.560: weak inside a session
]


@pytest.mark.parametrize(("detector_id", "params", "auroc", "line", "session_line"), LEVELS, ids=[x[0] for x in LEVELS])
def test_lines_are_localised(detector_id: str, params: dict[str, Any], auroc: float, line: float, session_line: float) -> None:
    sub = synthetic(300)
    registry = get_registry()
    scores = registry.get("detector", detector_id).create(params, device="cpu", seed=0).fit(sub.train.samples).score(sub.test.samples)
    assert M.roc_auc(sub.test.labels, scores.sample) >= auroc
    assert registry.get("metric", "core.local_auroc").create()(sub.test, scores) >= line
    assert registry.get("metric", "logs.session_line_auroc").create()(sub.test, scores)["session_line_auroc"] >= session_line
