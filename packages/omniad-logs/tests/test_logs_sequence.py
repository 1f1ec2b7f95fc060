"""Sequence detectors (DeepLog, LogAnomaly, LogRobust, transformer): conformance and behaviour on tiny data."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from omniad.data import Split, Subset
from omniad.detector import Detector
from omniad.errors import ConfigError, DataError
from omniad.plugins import get_registry
from omniad.testing import DetectorConformance
from omniad_logs.session import EventVocabulary, LogSession

TEMPLATES = {
    "open": "Receiving block <*> src <*>", "write": "PacketResponder <*> for block <*> terminating",
    "ack": "Received block <*> of size <*>", "store": "addStoredBlock blockMap updated <*>",
    "close": "Deleting block <*> file <*>", "oops": "Exception in receiveBlock for block <*>",
    "retry": "Retrying write to <*> after failure",
}
VOCAB = EventVocabulary(templates=TEMPLATES)
FLOW = ("open", "write", "ack", "write", "ack", "store", "close")
TINY = {"epochs": 3, "hidden_size": 8, "num_layers": 1, "window": 3, "batch_size": 64, "validation_size": 0.2}


def toy_subset(labelled_train: bool = False) -> Subset:
    """Workflow sessions: normal = FLOW with a repeated middle; anomalies break order, end early or fail."""
    rng = np.random.default_rng(0)

    def normal() -> tuple[str, ...]:
        reps = int(rng.integers(1, 4))
        return ("open",) + ("write", "ack") * reps + ("store", "close")

    anomalies = [
        ("open", "ack", "write", "store", "close"),
        ("open", "write", "oops", "retry", "close"),
        ("open", "write"),
        ("open", "write", "ack", "close", "store"),
    ]

    def session(sid: str, events: tuple[str, ...], label: int | None = None) -> LogSession:
        return LogSession(id=sid, events=events, vocabulary=VOCAB, meta={} if label is None else {"label": label})

    if labelled_train:
        train = [session(f"tr{i}", normal(), 0) for i in range(24)]
        train += [session(f"ta{i}", anomalies[i % 4], 1) for i in range(12)]
        train_labels = np.array([0] * 24 + [1] * 12)
    else:
        train = [session(f"tr{i}", normal()) for i in range(30)]
        train_labels = np.zeros(30)
    test = [session(f"te{i}", normal()) for i in range(10)] + [session(f"an{i}", a) for i, a in enumerate(anomalies)]
    labels = np.r_[np.zeros(10), np.ones(len(anomalies))]
    return Subset("toy", Split(train, labels=train_labels), Split(test, labels=labels))


class SequenceConformance(DetectorConformance):
    def make_subset(self) -> Subset:
        return toy_subset()

    def make_bad_samples(self) -> list[Any]:
        return [LogSession(id="empty", events=())]


class TestDeepLogConformance(SequenceConformance):
    detector_id = "logs.deeplog"
    params: ClassVar[dict[str, Any]] = {**TINY, "embedding_dim": 4}


class TestLogAnomalyConformance(SequenceConformance):
    detector_id = "logs.loganomaly"
    params: ClassVar[dict[str, Any]] = {**TINY, "semantic_dim": 16}


class TestTransformerConformance(SequenceConformance):
    detector_id = "logs.transformer"
    params: ClassVar[dict[str, Any]] = {"epochs": 2, "d_model": 16, "n_heads": 2, "n_layers": 1,
                                        "dim_feedforward": 16, "window": 3, "validation_size": 0.2}


class TestLogRobustConformance(SequenceConformance):
    detector_id = "logs.logrobust"
    params: ClassVar[dict[str, Any]] = {"epochs": 3, "hidden_size": 8, "num_layers": 1, "semantic_dim": 16,
                                        "validation_size": 0.2}

    def make_subset(self) -> Subset:
        return toy_subset(labelled_train=True)


def create(detector_id: str, **params: Any) -> Detector:
    return get_registry().get("detector", detector_id).create(params, device="cpu", seed=0)


def test_top_g_flags_exactly_the_injected_line() -> None:
    """h=1, g=1: every next event is certain, so only the line whose event breaks the chain is flagged.

    ``y`` is a known event (its successor x5 is certain too), so replacing x4 by it breaks only
    the prediction of line 3; the line after it is what follows ``y`` in training.
    """
    chain = tuple(f"x{i}" for i in range(1, 9))
    train = [LogSession(f"c{i}", chain) for i in range(30)] + [LogSession(f"y{i}", ("z", "y", *chain[4:])) for i in range(10)]
    det = create("logs.deeplog", window=1, top_g=1, epochs=150, lr=0.05, hidden_size=16, num_layers=1,
                 embedding_dim=8, validation_size=0, batch_size=64).fit(train)
    injected = (*chain[:3], "y", *chain[4:])
    scores = det.score([LogSession("normal", chain), LogSession("injected", injected)])
    assert det.threshold_ == 1.0
    assert scores.decision.tolist() == [0, 1]
    assert np.flatnonzero(scores.local[0] > det.threshold_).tolist() == []
    assert np.flatnonzero(scores.local[1] > det.threshold_).tolist() == [3]


def test_unseen_event_always_misses_and_end_marker_flags_truncation() -> None:
    subset = toy_subset()
    det = create("logs.deeplog", **TINY, top_g=3).fit(subset.train.samples)
    scores = det.score([LogSession("new", ("open", "never_seen", "store", "close"))])
    assert scores.local[0][1] > det.threshold_ and scores.decision[0] == 1
    assert det.score_counts_["unseen_events"] == 1


def test_short_sessions_are_padded_and_scored_like_alone() -> None:
    """Sessions shorter than the window are scored with the context they have (left-padded), and counted.

    Batched scoring of many sessions equals scoring each session alone (no window leaks
    across sessions).
    """
    subset = toy_subset()
    det = create("logs.deeplog", **{**TINY, "window": 6}).fit(subset.train.samples)
    sessions = [LogSession("one", ("open",)), LogSession("two", ("open", "write")), *subset.test.samples]
    batched = det.score(sessions)
    assert det.score_counts_["sessions_shorter_than_window"] >= 2
    assert [len(a) for a in batched.local[:2]] == [1, 2]
    alone = np.array([det.score([s]).sample[0] for s in sessions])
    np.testing.assert_allclose(batched.sample, alone, rtol=1e-6)


def test_empty_session_rejected_with_clear_error() -> None:
    det = create("logs.deeplog", **TINY).fit(toy_subset().train.samples)
    with pytest.raises(DataError, match="has no lines"):
        det.score([LogSession("empty", ())])
    with pytest.raises(DataError, match="LogSession"):  # a record, not a session (a list of raw lines is one now)
        det.score([{"events": "open write"}])


def test_auto_g_respects_the_normal_flag_rate() -> None:
    subset = toy_subset()
    det = create("logs.deeplog", **TINY, normal_flag_rate=0.0).fit(subset.train.samples)
    fixed = create("logs.deeplog", **TINY, top_g=1).fit(subset.train.samples)
    assert 1 <= det.top_g_ <= det.n_classes and fixed.top_g_ == 1
    assert det.fit_counts_["top_g"] == det.top_g_


def test_next_event_models_leave_labelled_anomalies_out() -> None:
    det = create("logs.deeplog", **TINY).fit(toy_subset(labelled_train=True).train.samples)
    assert det.fit_counts_["left_out_labelled_anomalous"] == 12


def test_logrobust_refuses_unlabelled_training() -> None:
    with pytest.raises(DataError, match="supervised"):
        create("logs.logrobust", epochs=1).fit(toy_subset().train.samples)


def test_loganomaly_unseen_event_round_trip(tmp_path: Path) -> None:
    """An unseen event gets its template's vector at scoring; that must not leak into the saved model."""
    subset = toy_subset()
    det = create("logs.loganomaly", **TINY, semantic_dim=16, semantic_source="hashed").fit(subset.train.samples)
    assert det.semantic_source_ == "hashed"
    odd = [LogSession("odd", ("open", "retry", "close"), vocabulary=VOCAB), *subset.test.samples]
    before = det.score(odd).sample
    det.save(tmp_path / "m")
    loaded = Detector.load(tmp_path / "m", device="cpu")
    np.testing.assert_allclose(loaded.score(odd).sample, before, rtol=1e-6)


def test_semantic_sources() -> None:
    from omniad_logs.detectors.semantic import choose_source, event_vectors, hashed_vectors

    vocab = EventVocabulary(templates=TEMPLATES, vectors={"open": np.ones(5, np.float32)})
    assert choose_source(vocab, "auto", "t") == "vocabulary"
    assert choose_source(VOCAB, "auto", "t") in ("text", "hashed")
    vectors, missing = event_vectors(["open", "write"], vocab, "vocabulary", 8, "t")
    assert vectors.shape == (2, 5) and missing == 1 and not vectors[1].any()
    with pytest.raises(ConfigError, match="no vectors"):
        choose_source(VOCAB, "vocabulary", "t")
    a = hashed_vectors(["Receiving block <*> src <*>", "Received block <*> of size <*>", "Deleting file"], 32)
    np.testing.assert_array_equal(a, hashed_vectors(["Receiving block <*> src <*>", "Received block <*> of size <*>",
                                                     "Deleting file"], 32))
    assert a[0] @ a[1] > a[0] @ a[2]  # shared words -> closer
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-6)


def test_text_source_without_omniad_text_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    import omniad_logs.detectors.semantic as semantic

    monkeypatch.setattr(semantic, "_text_backend", lambda: None)
    with pytest.raises(ConfigError, match="omniad-text"):
        semantic.choose_source(VOCAB, "text", "t")
    assert semantic.choose_source(VOCAB, "auto", "t") == "hashed"


def test_windows_match_a_plain_loop() -> None:
    from omniad_logs.detectors.sequence_training import PAD, build_windows

    tokens = [np.array([2, 3, 4, 5]), np.array([3]), np.array([9, 2])]  # 9: unseen (4 known events: 2..5)
    win = build_windows(tokens, 2, 4, end_marker=True)
    expected_ctx, expected_tgt = [], []
    for t in tokens:
        padded = [PAD, PAD, *t.tolist()]
        for i in range(len(t) + 1):
            expected_ctx.append(padded[i : i + 2])
            expected_tgt.append(4 if i == len(t) else (-1 if t[i] >= 6 else t[i] - 2))
    np.testing.assert_array_equal(win.contexts, expected_ctx)
    np.testing.assert_array_equal(win.targets, expected_tgt)
    assert win.positions.tolist() == [5, 2, 3]


def test_bad_params_fail_at_config_time() -> None:
    entry = get_registry().get("detector", "logs.transformer")
    with pytest.raises(ConfigError, match="n_heads"):
        entry.create({"d_model": 30, "n_heads": 4})
    with pytest.raises(ConfigError):
        get_registry().get("detector", "logs.deeplog").create({"top_g": "nine"})


def test_semantic_models_say_which_vectors_they_used() -> None:
    """The run record's provenance names the semantic source (here: hashed template words)."""
    subset = toy_subset(labelled_train=True)
    det = create("logs.logrobust", epochs=1, hidden_size=8, num_layers=1, semantic_dim=16, validation_size=0.2,
                 semantic_source="hashed")
    assert det.provenance() == {}
    det.fit(subset.train.samples)
    assert det.provenance() == {"semantic_source": "hashed"}
