"""Text detectors: conformance of every detector on the tiny random model, and the checks of their rules."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from omniad.data import Subset
from omniad.detector import Detector
from omniad.errors import ConfigError, DataError
from omniad.plugins import get_registry
from omniad.testing import DetectorConformance
from omniad_text.detectors.ecod import ecod_scores, skewness_sign

_CACHE = Path(tempfile.mkdtemp(prefix="omniad-text-detectors-"))
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
TINY = {"model": "tiny-random", "cache_dir": str(_CACHE)}
SMALL = {"n_train": 30, "n_test_normal": 8, "n_test_anomalous": 8}


def small_subset() -> Subset:
    return get_registry().get("dataset", "text.synthetic").create(SMALL).load()[0]


def create(detector_id: str, **params: Any) -> Detector:
    return get_registry().get("detector", detector_id).create({"embedding": TINY, **params}, device="cpu", seed=0)


class TextConformance(DetectorConformance):
    def make_subset(self) -> Subset:
        return small_subset()

    def make_bad_samples(self) -> list[Any]:
        return [None]


class TestKNN(TextConformance):
    detector_id = "text.knn"
    params: ClassVar = {"embedding": TINY}


class TestLOF(TextConformance):
    detector_id = "text.lof"
    params: ClassVar = {"embedding": TINY, "n_neighbors": 10}


class TestIForest(TextConformance):
    detector_id = "text.iforest"
    params: ClassVar = {"embedding": TINY, "n_estimators": 20}


class TestOCSVM(TextConformance):
    detector_id = "text.ocsvm"
    params: ClassVar = {"embedding": TINY}


class TestMahalanobis(TextConformance):
    detector_id = "text.mahalanobis"
    params: ClassVar = {"embedding": TINY}


class TestECOD(TextConformance):
    detector_id = "text.ecod"
    params: ClassVar = {"embedding": TINY}


class TestPCA(TextConformance):
    detector_id = "text.pca"
    params: ClassVar = {"embedding": TINY}


class TestDeepSVDD(TextConformance):
    detector_id = "text.deep_svdd"
    params: ClassVar = {"embedding": TINY, "epochs": 3, "hidden": [16], "rep_dim": 8}


class TestEmbeddedCoreKNN(TextConformance):
    detector_id = "text.embedded"
    params: ClassVar = {"embedding": TINY, "detector": "core.knn", "detector_params": {"n_neighbors": 3}}


class TestCVDD(TextConformance):
    detector_id = "text.cvdd"
    params: ClassVar = {"embedding": TINY, "epochs": 2, "attention_size": 8, "n_contexts": 2}


def test_ecod_one_at_a_time_equals_ecdf_by_hand() -> None:
    rng = np.random.default_rng(0)
    train = np.column_stack([rng.exponential(size=50), -rng.exponential(size=50), rng.normal(size=50)])
    test = np.vstack([rng.normal(size=(6, 3)), [[8.0, -8.0, 0.0]]])
    skew = skewness_sign(train)
    assert skew.tolist()[:2] == [1, -1]
    got = ecod_scores(np.sort(train, axis=0), skew, test)
    n = len(train)
    for i, x in enumerate(test):
        total = 0.0
        for j in range(3):
            left = -np.log((np.sum(train[:, j] <= x[j]) + 1) / (n + 1))  # ECDF counting the sample itself
            right = -np.log((np.sum(train[:, j] >= x[j]) + 1) / (n + 1))
            tail = {-1: left, 1: right, 0: left + right}[int(skew[j])]
            total += max(tail, left, right)
        assert got[i] == pytest.approx(total, rel=1e-12)
    # each text's score is its own: scoring one at a time or in a batch gives the same numbers
    alone = [ecod_scores(np.sort(train, axis=0), skew, x[None])[0] for x in test]
    np.testing.assert_allclose(alone, got)


def test_adapter_core_knn_equals_text_knn() -> None:
    subset = small_subset()
    test = subset.test.samples
    euclid = create("text.knn", metric="euclidean").fit(subset.train.samples).score(test).sample
    adapter = create("text.embedded", detector="core.knn").fit(subset.train.samples).score(test).sample
    np.testing.assert_allclose(adapter, euclid, rtol=1e-6, atol=1e-9)
    # on L2-normalised embeddings the cosine distance is half the squared euclidean one: same ranking
    cosine = create("text.knn").fit(subset.train.samples).score(test).sample
    np.testing.assert_allclose(cosine, euclid**2 / 2, rtol=1e-5, atol=1e-7)


def test_adapter_refuses_non_tabular_detectors() -> None:
    with pytest.raises(ConfigError, match="works on text samples, not feature vectors"):
        create("text.embedded", detector="text.knn")
    with pytest.raises(ConfigError, match="unknown detector id"):
        create("text.embedded", detector="core.nope")


def test_embedding_stats_and_one_embedding_per_corpus() -> None:
    from omniad_text.embeddings import Embedder

    subset = small_subset()
    create("text.knn").fit(subset.train.samples)  # fills the cache
    calls = Embedder.model_calls
    for detector_id in ("text.pca", "text.ecod", "text.mahalanobis"):
        det = create(detector_id).fit(subset.train.samples)
        assert det.embedding_stats_["cache_misses"] == 0 and det.embedding_stats_["cache_hits"] == len(subset.train)
        assert det.embedding_stats_["source"] == "tiny-random"
    assert Embedder.model_calls == calls, "a cached corpus must not be embedded again"


def test_save_is_pickle_free_and_keeps_embedding(tmp_path: Path) -> None:
    subset = small_subset()
    det = create("text.lof", n_neighbors=5).fit(subset.train.samples)
    det.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["arrays.safetensors", "omniad.json", "state.json"]
    loaded = Detector.load(tmp_path / "m", device="cpu")
    assert loaded.params.embedding.model == "tiny-random" and loaded.embedding_stats_ == det.embedding_stats_


def test_pca_scores_reconstruction_error() -> None:
    det = create("text.pca", n_components=2)
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(6, 2)))[0].T
    train = rng.normal(size=(40, 2)) @ basis
    det._fit_vectors(train)
    inside, off = train[:3], train[:3] + 0.5 * np.linalg.svd(basis, full_matrices=True)[2][-1]
    np.testing.assert_allclose(det._score_vectors(inside).sample, 0, atol=1e-12)
    np.testing.assert_allclose(det._score_vectors(off).sample, 0.25, rtol=1e-9)


def test_user_chosen_k_too_large_fails_and_default_is_lowered() -> None:
    subset = small_subset()
    with pytest.raises(DataError, match="n_neighbors=100 but only 30 training texts"):
        create("text.knn", n_neighbors=100).fit(subset.train.samples)
    det = create("text.lof").fit(subset.train.samples[:8])
    assert det.adjusted_params["n_neighbors"]["used"] == 7


def test_score_with_another_embedding_dimension_fails() -> None:
    subset = small_subset()
    det = create("text.knn").fit(subset.train.samples)
    det.embedding_dim_ = 7
    with pytest.raises(DataError, match="embeddings have .* dimensions but the detector was fitted on 7"):
        det.score(subset.test.samples)


def test_cvdd_learns_the_topic() -> None:
    """On the tiny random encoder only its token table means anything (its contextual states are
    random mixes), so the static token vectors are the ones that can learn the topic here; the
    contextual default is checked on MiniLM in test_text_detectors_bbc.py."""
    subset = get_registry().get("dataset", "text.synthetic").create(
        {**SMALL, "n_train": 60, "garbled_fraction": 0.0}).load()[0]
    det = create("text.cvdd", epochs=15, tokens="static")
    det.fit(subset.train.samples)
    assert det.train_loss_[-1] < det.train_loss_[0]
    from sklearn.metrics import roc_auc_score

    # measured 0.906 (dataset seeds 1, 2: 0.81, 0.80)
    assert roc_auc_score(subset.test.labels, det.score(subset.test.samples).sample) > 0.8


def test_cvdd_records_provenance_like_the_other_text_detectors() -> None:
    """Its run records once carried provenance: null; now the encoder, token vectors and training are said."""
    det = create("text.cvdd", epochs=2).fit(small_subset().train.samples)
    record = det.provenance()
    assert record["embedding"]["source"] == "tiny-random" and record["embedding"]["texts"] == 30
    assert record["embedding"]["tokens"].startswith("last hidden states")
    assert record["training"]["epochs"] == 2 and np.isfinite(record["training"]["loss_last_epoch"])
    import json

    json.dumps(record)  # JSON-ready, as the run record needs


def test_cvdd_contexts_start_at_kmeans_centres_and_the_penalty_is_on_the_contexts() -> None:
    """As in the authors' code: k-means++ centres of the unit mean vectors, penalty mean((C C^T - I)^2)."""
    import torch

    from omniad_text.detectors.cvdd import build_net, kmeans_contexts

    x = np.vstack([np.tile([1.0, 0.0, 0.0], (5, 1)), np.tile([0.0, 3.0, 0.0], (5, 1))])
    centres = kmeans_contexts(x + 1e-3 * np.random.default_rng(0).normal(size=x.shape), 2, 0)
    assert sorted(np.argmax(np.abs(centres), axis=1).tolist()) == [0, 1]
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 1.0)
    assert kmeans_contexts(x[:1], 3, 0).shape == (3, 3)  # fewer distinct texts than heads
    net = build_net(3, 4, 2)
    with torch.no_grad():
        net.contexts.copy_(torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]))
    assert float(net.penalty()) == pytest.approx((0 + 1 + 1 + 1) / 4)  # C C^T = [[1, 1], [1, 2]]
    h, mask = torch.randn(2, 5, 3), torch.ones(2, 5, dtype=torch.bool)
    _, a = net(h, mask)
    torch.testing.assert_close(a, torch.full((2, 2, 5), 0.2))  # W2 starts at zero: uniform attention


def test_cvdd_attends_to_content_words_only() -> None:
    """Stop words and punctuation are removed before attention, as in Ruff et al.: else every head
    settles on the words every text has and all scores collapse (AUROC 0.5 on BBC News)."""
    from omniad_text.detectors.cvdd import content_tokens
    from omniad_text.embeddings.tiny import build_tiny_tokenizer

    tok = build_tiny_tokenizer()
    vocab = tok.get_vocab()
    keep = content_tokens(tok, len(vocab))
    assert keep[vocab["match"]] and keep[vocab["##s"]]
    assert not any(keep[vocab[t]] for t in ("the", "of", ".", ",", "7", "[CLS]", "[PAD]"))
    det = create("text.cvdd", epochs=1, tokens="static").fit(["the match of the cup.", "the goal"])
    assert det._token_ids(["The match, the cup!", "the of ."], "score")[0] == tok(
        "match cup", add_special_tokens=False)["input_ids"]
    assert det._token_ids(["the of ."], "score")[0] == tok("the of .", add_special_tokens=False)["input_ids"], (
        "a text of stop words only keeps its tokens rather than becoming empty"
    )
    # contextual states carry their sentence: every real token is kept, only special tokens are left out
    contextual = create("text.cvdd", epochs=1).fit(["the match of the cup.", "the goal"])
    assert contextual._token_ids(["The match, the cup!"], "score")[0] == tok(
        "The match, the cup!", add_special_tokens=False)["input_ids"]
    assert contextual._token_ids([""], "score")[0] == tok("", add_special_tokens=True)["input_ids"]


def test_bad_text_error_names_the_detector() -> None:
    det = create("text.knn").fit(small_subset().train.samples)
    with pytest.raises(DataError, match=r"detector text.knn.score: text embedding: text 1 is int 5, not a string"):
        det.score(["fine", 5])


def test_cvdd_falls_back_only_when_allowed() -> None:
    missing = {"model": "/no/such/model/dir", "cache_dir": str(_CACHE)}
    with pytest.raises(ConfigError, match="does not exist"):
        create("text.cvdd", embedding=missing, epochs=1).fit(["a match", "the cup"])
    with pytest.warns(UserWarning, match="falling back to model='tiny-random'"):
        det = create("text.cvdd", embedding={**missing, "allow_fallback": True}, epochs=1).fit(["a match", "the cup"])
    assert det.embedding_stats_["source"] == "tiny-random"


def test_cvdd_scores_in_chunks_equal_scores_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import omniad_text.detectors.cvdd as cvdd

    subset = small_subset()
    det = create("text.cvdd", epochs=2).fit(subset.train.samples)
    whole = det.score(subset.test.samples).sample
    monkeypatch.setattr(cvdd, "SCORE_CHUNK", 3)
    np.testing.assert_allclose(det.score(subset.test.samples).sample, whole, rtol=1e-5, atol=1e-6)
