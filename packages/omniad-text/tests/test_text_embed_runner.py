"""A grid of eight text detectors over one corpus embeds it once (counted forward passes)."""

from __future__ import annotations

import pytest

from omniad.plugins import get_registry
from omniad.runner.config import parse_config
from omniad.runner.run import run
from omniad_text.embeddings import Embedder

DETECTORS = (
    "text.knn",
    "text.lof",
    "text.iforest",
    "text.ocsvm",
    "text.mahalanobis",
    "text.ecod",
    "text.pca",
    "text.deep_svdd",
)
SMALL = {"n_train": 40, "n_test_normal": 12, "n_test_anomalous": 8}


def grid(tmp_path, name, detectors):
    embedding = {"model": "tiny-random", "cache_dir": str(tmp_path / f"cache-{name}")}
    return parse_config(
        {
            "output_dir": str(tmp_path / f"out-{name}"),
            "device": "cpu",
            "detectors": [{"id": d, "params": {"embedding": embedding}} for d in detectors],
            "datasets": [{"id": "text.synthetic", "params": SMALL}],
            "metrics": ["core.auroc"],
        }
    )


def test_eight_detectors_in_one_run_embed_the_corpus_once(tmp_path):
    registered = {entry.id for entry in get_registry().list("detector")}
    missing = [d for d in DETECTORS if d not in registered]
    if missing:
        pytest.skip(f"detectors not registered yet: {missing}")
    before = Embedder.model_calls
    one = run(grid(tmp_path, "one", DETECTORS[:1]), progress=False)
    single = Embedder.model_calls - before
    assert one.records[0]["status"] == "ok", one.records[0].get("error")
    assert single >= 2  # train and test texts at least one forward pass each
    before = Embedder.model_calls
    result = run(grid(tmp_path, "eight", DETECTORS), progress=False)
    assert [r["status"] for r in result.records] == ["ok"] * 8, [r.get("error") for r in result.failed]
    assert Embedder.model_calls - before == single  # not 8x: jobs 2..8 read the cache
    # a second run of the grid (rerun) computes nothing at all
    before = Embedder.model_calls
    again = run(grid(tmp_path, "eight", DETECTORS).model_copy(update={"rerun": "all"}), progress=False)
    assert again.ran == 8 and Embedder.model_calls - before == 0


def test_the_record_says_which_embedding_ran_and_shows_a_fallback_beside_the_label(tmp_path):
    """Embedding stats land in the subset record; a model swapped by allow_fallback is never hidden."""
    embedding = {"model": "no-such-model-here", "allow_fallback": True, "cache_dir": str(tmp_path / "cache")}
    cfg = parse_config(
        {
            "output_dir": str(tmp_path / "out"),
            "device": "cpu",
            "examples": 0,
            "detectors": [{"id": "text.knn", "params": {"embedding": embedding}}],
            "datasets": [{"id": "text.synthetic", "params": SMALL}],
            "metrics": ["core.auroc"],
        }
    )
    with pytest.warns(UserWarning, match="falling back to model='tiny-random'"):
        record = run(cfg, progress=False).records[0]
    assert record["status"] == "ok", record.get("error")
    stats = record["subsets"][0]["provenance"]["embedding"]
    assert "tiny-random" in stats["fallback"]
    assert record["adjusted"].startswith(
        "embedding.model no-such-model-here→tiny-random (replaced in 1 of 1 subsets"
    )
    assert "embedding.model no-such-model-here→tiny-random" in (tmp_path / "out" / "results.md").read_text()


def test_encoding_repairs_reach_the_record_and_the_reports(tmp_path):
    """316 characters replaced in a Latin-1 file once reached neither the record nor results.*; now they do."""
    import csv

    path = tmp_path / "latin1.csv"
    with path.open("w", newline="", encoding="latin-1") as f:
        w = csv.writer(f)
        w.writerow(("category", "text"))
        w.writerows(
            [("x", f"café au lait number {i}") for i in range(10)]
            + [("y", f"naïve text {i}") for i in range(6)]
        )
    cfg = parse_config(
        {
            "output_dir": str(tmp_path / "out"),
            "device": "cpu",
            "examples": 0,
            "detectors": [
                {
                    "id": "text.knn",
                    "params": {"embedding": {"model": "tiny-random", "cache_dir": str(tmp_path / "cache")}},
                }
            ],
            "datasets": [{"id": "text.one_vs_rest", "params": {"path": str(path), "categories": ["x"]}}],
            "metrics": ["core.auroc"],
        }
    )
    record = run(cfg, progress=False).records[0]
    assert record["status"] == "ok", record.get("error")
    (sub,) = record["subsets"]
    assert sub["counts"] == {"replaced_chars": 16, "texts_with_replacements": 16}
    assert any("TextRepairWarning" in w and "replaced_chars 16" in w for w in sub["warnings"])
    assert "replaced_chars 16" in (tmp_path / "out" / "results.md").read_text()
    out = tmp_path / "out"
    for report in ("results.csv", "report.html"):  # the data notes column / paragraph
        assert "replaced_chars 16" in (out / report).read_text(encoding="utf-8"), report
