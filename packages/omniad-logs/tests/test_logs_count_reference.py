"""The count-vector detectors against independent references: loglizer's formulas, scikit-learn, hand cases."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from omniad.errors import MissingDependencyError
from omniad.plugins import get_registry
from omniad_logs.detectors import tabular_models
from omniad_logs.detectors.count_base import SNAP_BITS, snap
from omniad_logs.detectors.features import UNKNOWN, EventFeaturizer
from omniad_logs.detectors.pca import q_statistic
from omniad_logs.session import LogSession


def create(detector_id: str, **params: Any) -> Any:
    return get_registry().get("detector", detector_id).create(params, device="cpu", seed=0)


def random_sessions(n: int, seed: int, events: str = "ABCDEF") -> list[LogSession]:
    """Sessions whose counts follow two invariants (A = B, C = 2 D) plus free events E, F."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        a, d = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        seq = ["A"] * a + ["B"] * a + ["C"] * (2 * d) + ["D"] * d + ["E"] * int(rng.integers(0, 3))
        seq += ["F"] * int(rng.integers(0, 2))
        rng.shuffle(seq)
        out.append(LogSession(id=f"s{i}", events=tuple(seq)))
    return out


# -- features -------------------------------------------------------------------------------
def test_counts_put_unseen_events_in_one_unknown_column() -> None:
    f = EventFeaturizer().fit([LogSession("a", ("x", "y", "x"))])
    assert f.columns == ["x", "y", UNKNOWN]
    np.testing.assert_array_equal(f.transform([LogSession("b", ("x", "q", "r", "y"))], "t"), [[1, 1, 2]])


def test_tfidf_weights_match_hand_computation() -> None:
    train = [LogSession("a", ("x", "y")), LogSession("b", ("x",)), LogSession("c", ("x", "x"))]
    smooth = EventFeaturizer("tfidf").fit(train)
    np.testing.assert_allclose(smooth.idf_, [np.log(4 / 4) + 1, np.log(4 / 2) + 1, np.log(4 / 1) + 1])
    loglizer = EventFeaturizer("tfidf_loglizer", "zero_mean").fit(train)
    np.testing.assert_allclose(loglizer.idf_, [0.0, np.log(3.0), np.log(3.0)])
    x = loglizer.transform(train, "t")
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=1e-12)  # zero_mean uses the training mean


def test_l2_normalisation_gives_unit_rows() -> None:
    f = EventFeaturizer("count", "l2").fit(random_sessions(20, 0))
    np.testing.assert_allclose(np.linalg.norm(f.transform(random_sessions(5, 1), "t"), axis=1), 1.0)


# -- PCA: loglizer's code, written out here independently ------------------------------------
def loglizer_pca(x: np.ndarray, n_components: float, c_alpha: float) -> tuple[np.ndarray, float]:
    n, d = x.shape
    u, sigma, _ = np.linalg.svd(np.dot(x.T, x) / float(n))
    variance, total = 0.0, np.sum(sigma)
    for i in range(d):
        variance += sigma[i]
        if variance / total >= n_components:
            break
    k = i + 1
    p = u[:, :k]
    proj = np.identity(d) - p @ p.T
    phi = np.zeros(3)
    for i in range(3):
        for j in range(k, d):
            phi[i] += np.power(sigma[j], i + 1)
    h0 = 1.0 - 2 * phi[0] * phi[2] / (3.0 * phi[1] * phi[1])
    threshold = phi[0] * np.power(
        c_alpha * np.sqrt(2 * phi[1] * h0 * h0) / phi[0] + 1.0 + phi[1] * h0 * (h0 - 1) / (phi[0] * phi[0]), 1.0 / h0
    )
    return proj, float(threshold)


def test_pca_matches_loglizer_spe_and_q_statistic() -> None:
    train, test = random_sessions(200, 0), random_sessions(50, 1)
    det = create("logs.pca", weighting="tfidf_loglizer", n_components=0.9).fit(train)
    x_train = det.features_.transform(train, "t")
    proj, threshold = loglizer_pca(x_train, 0.9, 3.2905)
    assert det.threshold_ == pytest.approx(threshold, rel=1e-4)  # c_alpha 3.2905 = norm.ppf(0.9995) to 4 digits
    x = det.features_.transform(test, "t")
    expected = np.array([np.dot(proj @ row, proj @ row) for row in x])
    np.testing.assert_allclose(det._spe(x)[0], expected, rtol=1e-9, atol=1e-12)
    scores = det.score(test)  # snapped to SNAP_BITS bits of |x|^2 (count_base.snap): within half a quantum
    quantum = 2.0 ** (1 - SNAP_BITS) * np.einsum("ij,ij->i", x, x)
    assert np.all(np.abs(scores.sample - expected) <= quantum / 2)
    np.testing.assert_array_equal(scores.decision, (expected > det.threshold_).astype(np.int8))


def test_pca_line_shares_sum_to_the_spe_when_no_event_is_missing() -> None:
    train = random_sessions(200, 0)
    det = create("logs.pca").fit(train)
    # the first lies in the normal space (its SPE is float noise, snapped to 0), the second leaves it
    for s in (LogSession("x", ("A", "B", "E", "F")), LogSession("y", ("A", "A", "B", "E", "F"))):
        out = det.score([s])
        x = det.features_.transform([s], "t")
        share = det._spe(x)[1][0]
        cols = det.features_.columns_of(s)
        scale = float(x[0] @ x[0])
        np.testing.assert_array_equal(out.local[0], snap(share[cols], scale))
        np.testing.assert_allclose(out.local[0], share[cols], rtol=0, atol=2.0**-SNAP_BITS * scale)
        assert out.sample[0] == pytest.approx(share.sum(), abs=2.0**-SNAP_BITS * scale)
    assert out.sample[0] > 0.1 and out.local[0].max() > 0.01  # "y" breaks A = B: a real residual


def test_q_statistic_is_undefined_without_residual_variance() -> None:
    assert np.isnan(q_statistic(np.zeros(3), 0.99))
    assert q_statistic(np.array([1.0, 0.5]), 0.99) > q_statistic(np.array([1.0, 0.5]), 0.9)


# -- invariant mining ------------------------------------------------------------------------
def test_invariant_mining_finds_the_planted_invariants() -> None:
    det = create("logs.invariant_mining").fit(random_sessions(300, 0))
    cols = det.features_.columns
    found = {tuple(cols[c] for c in group): tuple(coef) for group, coef in zip(det.columns_, det.coefficients_, strict=True)}
    assert found[("A", "B")] == (1.0, -1.0)
    assert found[("C", "D")] == (1.0, -2.0)
    assert found[(UNKNOWN,)] == (1.0,)
    assert all(set(group) <= {"A", "B", "C", "D", UNKNOWN} for group in found)  # E, F are free


def test_invariant_mining_points_at_the_lines_of_the_broken_invariant() -> None:
    det = create("logs.invariant_mining").fit(random_sessions(300, 0))
    s = LogSession("x", ("A", "B", "A", "E", "C", "C", "D"))  # one A too many
    out = det.score([s])
    assert out.sample[0] == 1 and out.decision[0] == 1
    np.testing.assert_array_equal(out.local[0], [1, 1, 1, 0, 0, 0, 0])
    ok = det.score([LogSession("y", ("A", "B", "E"))])
    assert ok.sample[0] == 0 and ok.decision[0] == 0


# -- log clustering --------------------------------------------------------------------------
def test_log_clustering_scores_cosine_distance_to_nearest_representative() -> None:
    train = [LogSession(f"a{i}", ("x", "y")) for i in range(5)] + [LogSession(f"b{i}", ("z",)) for i in range(5)]
    det = create("logs.log_clustering", weighting="count", num_bootstrap_samples=4).fit(train)
    assert len(det.representatives_) == 2  # one cluster per pattern; the online phase joins the rest
    out = det.score([LogSession("p", ("x", "y")), LogSession("q", ("x", "x", "z"))])
    q = np.array([2.0, 0.0, 1.0]) / np.sqrt(5)  # (x, y, z) of q: nearer to the (x, y) cluster than to (z)
    assert out.sample[0] == pytest.approx(0.0)
    assert out.sample[1] == pytest.approx(1 - q @ (np.array([1.0, 1.0, 0.0]) / np.sqrt(2)))
    assert out.decision.tolist() == [0, 1]


def test_log_clustering_line_shares_sum_to_the_distance() -> None:
    det = create("logs.log_clustering").fit(random_sessions(100, 0))
    s = LogSession("x", ("A", "B", "E", "Z"))  # each event once, so line shares are the column terms
    out = det.score([s])
    assert out.local[0].sum() == pytest.approx(out.sample[0])
    assert np.argmax(out.local[0]) == 3  # the unseen event


# -- tabular adapters ------------------------------------------------------------------------
def test_counts_adapter_gives_the_inner_detectors_scores() -> None:
    train, test = random_sessions(60, 0), random_sessions(10, 1)
    det = create("logs.counts", detector="core.knn", detector_params={"n_neighbors": 2}).fit(train)
    knn = get_registry().get("detector", "core.knn").create({"n_neighbors": 2}).fit(det.features_.transform(train, "t"))
    np.testing.assert_allclose(det.score(test).sample, knn.score(det.features_.transform(test, "t")).sample)


def test_sklearn_iforest_path_matches_scikit_learn() -> None:
    from sklearn.ensemble import IsolationForest

    train, test = random_sessions(80, 0), random_sessions(20, 1)
    det = create("logs.iforest", backend="sklearn", n_estimators=30).fit(train)
    ref = IsolationForest(n_estimators=30, random_state=0).fit(det.features_.transform(train, "t"))
    x = det.features_.transform(test, "t")
    out = det.score(test)
    np.testing.assert_allclose(out.sample, -ref.score_samples(x))
    np.testing.assert_array_equal(out.decision, (ref.predict(x) == -1).astype(np.int8))


def test_sklearn_ocsvm_decision_is_the_learned_boundary() -> None:
    from sklearn.svm import OneClassSVM

    train, test = random_sessions(80, 0), random_sessions(20, 1)
    det = create("logs.ocsvm", backend="sklearn").fit(train)
    ref = OneClassSVM().fit(det.features_.transform(train, "t"))
    np.testing.assert_array_equal(det.score(test).decision, (ref.predict(det.features_.transform(test, "t")) == -1))


def test_auto_backend_falls_back_to_sklearn_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular_models, "pyod_available", lambda _id: False)
    det = create("logs.iforest", n_estimators=10).fit(random_sessions(30, 0))
    assert det.backend_ == "sklearn"
    assert det.adjusted_params["backend"]["used"] == "sklearn"
    with pytest.raises(MissingDependencyError, match="backend='pyod' needs omniad-pyod"):
        create("logs.ocsvm", backend="pyod").fit(random_sessions(30, 0))


# -- GLAD ------------------------------------------------------------------------------------
def test_glad_line_scores_sum_to_the_session_score() -> None:
    train = random_sessions(40, 0)
    det = create("logs.glad", epochs=2, hidden=8).fit(train)
    assert det.graph_mode_ == "events only"
    assert det.adjusted_params["use_parameters"]["used"] is False
    out = det.score(random_sessions(5, 1))
    for total, local in zip(out.sample, out.local, strict=True):
        assert local.sum() == pytest.approx(total, rel=1e-4, abs=1e-6)


def test_glad_uses_parameters_as_entity_nodes() -> None:
    train = [
        LogSession(f"s{i}", ("open", "read", "close"), parameters=((f"blk_{i}",), (f"blk_{i}", "10.0.0.1"), (f"blk_{i}",)))
        for i in range(20)
    ]
    det = create("logs.glad", epochs=2, hidden=8).fit(train)
    assert det.graph_mode_ == "events+entities" and "use_parameters" not in det.adjusted_params
    graph = det._graphs(train[:1])[0]
    assert len(graph.kinds) == 5  # 3 events + block id + IP
    out = det.score(train[:3])
    for total, local in zip(out.sample, out.local, strict=True):
        assert local.sum() == pytest.approx(total, rel=1e-4, abs=1e-6)
