"""The conformance kit and bad-input checks for every count-vector / graph log detector.

Data: tiny hand-built sessions (no parser needed). A normal session is a small workflow: ``open``, then 1-3 ``read``/``ack`` pairs, then
``close``; every line names the block, reads and acks also the peer IP. Anomalies break the
workflow the way real ones do, and the lines that break it are marked in the targets:
an unseen ``error`` event, a ``read`` without its ``ack``, a session without ``close``
(nothing to point at: no line is marked), and a foreign peer IP on a read.
"""

from __future__ import annotations

import importlib.util
from typing import Any, ClassVar

import numpy as np
import pytest

from omniad.data import Split, Subset
from omniad.errors import DataError, OmniadError
from omniad.plugins import get_registry
from omniad.testing import DetectorConformance
from omniad_logs.session import EventVocabulary, LogSession

VOCAB = EventVocabulary(templates={
    "open": "open block <*>", "read": "read block <*> from <*>", "ack": "ack block <*> to <*>",
    "close": "close block <*>", "error": "error on block <*>",
})


def _normal(rng: np.random.Generator, name: str) -> tuple[list[str], list[tuple[str, ...]]]:
    block = f"blk_{rng.integers(10**6)}"
    peer = f"10.0.0.{rng.integers(1, 4)}"
    events, params = ["open"], [(block,)]
    for _ in range(int(rng.integers(1, 4))):
        events += ["read", "ack"]
        params += [(block, peer), (block, peer)]
    events.append("close")
    params.append((block,))
    return events, params


def session(name: str, events: list[str], params: list[tuple[str, ...]]) -> LogSession:
    return LogSession(id=name, events=tuple(events), parameters=tuple(params), vocabulary=VOCAB)


def tiny_subset(n_train: int = 40, n_normal_test: int = 8, seed: int = 0) -> Subset:
    rng = np.random.default_rng(seed)
    train = [session(f"n{i}", *_normal(rng, f"n{i}")) for i in range(n_train)]
    test: list[LogSession] = []
    targets: list[np.ndarray] = []
    for i in range(n_normal_test):
        s = session(f"t{i}", *_normal(rng, f"t{i}"))
        test.append(s)
        targets.append(np.zeros(len(s), dtype=np.int8))
    for k in range(8):
        events, params = _normal(rng, f"a{k}")
        marked: list[int] = []
        kind = k % 4
        if kind == 0:  # an event never seen in training
            events.insert(2, "error")
            params.insert(2, (params[0][0],))
            marked = [2]
        elif kind == 1:  # a read without its ack
            events.insert(1, "read")
            params.insert(1, params[1])
            marked = [1]
        elif kind == 2:  # the session never closes
            events.pop()
            params.pop()
        else:  # a read from a host that never serves blocks
            events.insert(1, "read")
            params.insert(1, (params[0][0], "192.168.7.7"))
            events.insert(2, "ack")
            params.insert(2, (params[0][0], "192.168.7.7"))
            marked = [1, 2]
        test.append(session(f"a{k}", events, params))
        mark = np.zeros(len(events), dtype=np.int8)
        mark[marked] = 1
        targets.append(mark)
    labels = np.r_[np.zeros(n_normal_test), np.ones(8)].astype(np.int8)
    return Subset(
        name="tiny",
        train=Split(samples=train, ids=[s.id for s in train]),
        test=Split(samples=test, labels=labels, targets=targets, ids=[s.id for s in test]),
    ).validate("tiny sessions")


_CACHE: dict[str, Subset] = {}


def cached_subset() -> Subset:
    if "tiny" not in _CACHE:
        _CACHE["tiny"] = tiny_subset()
    return _CACHE["tiny"]


class CountConformance(DetectorConformance):
    def make_subset(self) -> Subset:
        return cached_subset()

    def make_bad_samples(self) -> list[Any]:
        # a JSON record, not a session, a sequence of event ids or a raw line (a list of raw lines is
        # one session now: ["open read ack close"] is read like a one-line log)
        return [{"message": "open read ack close"}]


class TestPCA(CountConformance):
    detector_id = "logs.pca"


class TestInvariantMining(CountConformance):
    detector_id = "logs.invariant_mining"


class TestLogClustering(CountConformance):
    detector_id = "logs.log_clustering"
    params: ClassVar[dict[str, Any]] = {"num_bootstrap_samples": 20}


class TestCountsKNN(CountConformance):
    detector_id = "logs.counts"
    params: ClassVar[dict[str, Any]] = {"detector": "core.knn", "detector_params": {"n_neighbors": 3}}


class TestIForestSklearn(CountConformance):
    detector_id = "logs.iforest"
    params: ClassVar[dict[str, Any]] = {"backend": "sklearn", "n_estimators": 20}


class TestOCSVMSklearn(CountConformance):
    detector_id = "logs.ocsvm"
    params: ClassVar[dict[str, Any]] = {"backend": "sklearn"}


_PYOD = pytest.mark.skipif(
    importlib.util.find_spec("omniad_pyod") is None or importlib.util.find_spec("pyod") is None,
    reason="omniad-pyod is not installed: the pyod backend's state (nested under inner.) is not checked",
)


@_PYOD
class TestIForestPyod(CountConformance):
    detector_id = "logs.iforest"
    params: ClassVar[dict[str, Any]] = {"backend": "pyod", "n_estimators": 20}


@_PYOD
class TestOCSVMPyod(CountConformance):
    detector_id = "logs.ocsvm"
    params: ClassVar[dict[str, Any]] = {"backend": "pyod"}


@_PYOD
class TestCountsPyodIForest(CountConformance):
    detector_id = "logs.counts"
    params: ClassVar[dict[str, Any]] = {"detector": "pyod.iforest", "detector_params": {"n_estimators": 20}}


class TestGLAD(CountConformance):
    detector_id = "logs.glad"
    params: ClassVar[dict[str, Any]] = {"epochs": 3, "hidden": 8, "batch_size": 16}
    atol: ClassVar[float] = 1e-5


class TestRandom(CountConformance):
    detector_id = "logs.random"


ALL = [
    ("logs.pca", {}),
    ("logs.invariant_mining", {}),
    ("logs.log_clustering", {"num_bootstrap_samples": 20}),
    ("logs.counts", {"detector": "core.knn", "detector_params": {"n_neighbors": 3}}),
    ("logs.iforest", {"backend": "sklearn", "n_estimators": 20}),
    ("logs.ocsvm", {"backend": "sklearn"}),
    ("logs.glad", {"epochs": 2, "hidden": 8}),
    ("logs.random", {}),
]
IDS = [a for a, _ in ALL]


def create(detector_id: str, params: dict[str, Any]) -> Any:
    return get_registry().get("detector", detector_id).create(dict(params), device="cpu", seed=0)


@pytest.mark.parametrize(("detector_id", "params"), ALL, ids=IDS)
def test_empty_session_is_rejected_naming_it(detector_id: str, params: dict[str, Any]) -> None:
    train = [*cached_subset().train.samples, LogSession(id="blank", events=())]
    with pytest.raises(DataError, match="'blank'.*no lines"):
        create(detector_id, params).fit(train)
    det = create(detector_id, params).fit(cached_subset().train.samples)
    with pytest.raises(DataError, match="'blank'.*no lines"):
        det.score([LogSession(id="blank", events=())])


@pytest.mark.parametrize(("detector_id", "params"), ALL, ids=IDS)
def test_wrong_sample_type_is_rejected(detector_id: str, params: dict[str, Any]) -> None:
    with pytest.raises(DataError, match="sample #1 is a ndarray"):
        create(detector_id, params).fit([["open", "close"], np.zeros(3)])


@pytest.mark.parametrize(("detector_id", "params"), [a for a in ALL if a[0] != "logs.random"], ids=IDS[:-1])
def test_batch_of_only_unseen_events_is_rejected(detector_id: str, params: dict[str, Any]) -> None:
    det = create(detector_id, params).fit(cached_subset().train.samples)
    with pytest.raises(DataError, match="none of the 3 lines has an event seen at fit"):
        det.score([["E1", "E2"], ["E9"]])


# Isolation Forest is left out: a column that is constant in training (the unknown column) is
# never split on, so a forest cannot see unseen events (docs/detectors-count.md says so).
SEES_UNSEEN = [a for a in ALL if a[0] not in ("logs.random", "logs.iforest")]


@pytest.mark.parametrize(("detector_id", "params"), SEES_UNSEEN, ids=[a for a, _ in SEES_UNSEEN])
def test_one_session_of_unseen_events_is_scored_as_anomalous(detector_id: str, params: dict[str, Any]) -> None:
    """An unseen event is often the anomaly itself: counted, and scored above every normal session."""
    subset = cached_subset()
    det = create(detector_id, params).fit(subset.train.samples)
    normal = list(subset.test.samples[:8])
    scores = det.score([*normal, LogSession(id="odd", events=("E1", "E2", "E3"))])
    assert scores.sample[-1] > scores.sample[:-1].max()


@pytest.mark.parametrize(("detector_id", "params"), ALL, ids=IDS)
def test_plain_event_sequences_are_accepted(detector_id: str, params: dict[str, Any]) -> None:
    train = [list(s.events) for s in cached_subset().train.samples]
    scores = create(detector_id, params).fit(train).score([["open", "read", "ack", "close"]])
    assert scores.sample.shape == (1,)


def test_counts_rejects_a_non_tabular_detector_at_creation() -> None:
    with pytest.raises(OmniadError, match="works on logs samples, not feature vectors"):
        create("logs.counts", {"detector": "logs.pca"})


def test_counts_unknown_inner_detector_is_named() -> None:
    with pytest.raises(OmniadError, match="unknown detector id 'core.knnn'.*core.knn"):
        create("logs.counts", {"detector": "core.knnn"})
