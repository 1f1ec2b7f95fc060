"""BBC News one-vs-rest quality benchmark of the omniad-text detectors, with PyOD on the same embeddings.

Protocol (``text.bbc``, Text-ADBench's): each of the five categories in turn is normal, a
seeded 80% of it is the train split, the rest of it plus every other article is the test
split. For each embedding the corpus is embedded once (the on-disk cache); every detector
then fits and scores through that cache. The anchor column runs PyOD itself on the very
same train/test embedding matrices (PyOD defaults; ECOD both as PyOD scores a batch and one
text at a time). The table is mean AUROC / AUPR over categories, averaged over seeds.

    OMNIAD_SHARED_DATA=/work/shared .venv/bin/python tools/bench_text_bbc.py [--seeds 0 1 2]
        [--embeddings fp32,torch-int8,onnx-int8] [--detectors text.knn,...] [--no-pyod] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from omniad import metrics as M
from omniad.plugins import get_registry

#: the embeddings: all-MiniLM-L6-v2, mean pooling (its card), L2-normalised, 256 tokens
MINILM = {"model": "minilm", "pooling": "auto", "normalize": True, "max_length": 256, "batch_size": 32}
EMBEDDINGS: dict[str, dict[str, Any]] = {
    "fp32": MINILM,
    "torch-int8": {**MINILM, "backend": "torch-int8"},
    "onnx": {**MINILM, "backend": "onnx"},
    "onnx-int8": {**MINILM, "backend": "onnx-int8"},
}
DETECTORS: list[tuple[str, str, dict[str, Any]]] = [
    ("knn", "text.knn", {}),
    ("knn-mean", "text.knn", {"method": "mean"}),
    ("knn-mean-k10", "text.knn", {"method": "mean", "n_neighbors": 10}),
    ("lof", "text.lof", {}),
    ("iforest", "text.iforest", {}),
    ("ocsvm", "text.ocsvm", {}),
    ("ocsvm-gamma-auto", "text.ocsvm", {"gamma": "auto"}),
    ("mahalanobis", "text.mahalanobis", {}),
    ("ecod", "text.ecod", {}),
    ("pca", "text.pca", {}),
    ("pca-t2", "text.pca", {"whiten_residual": True}),
    ("deep_svdd", "text.deep_svdd", {}),
    ("embedded:core.knn", "text.embedded", {"detector": "core.knn"}),
    ("cvdd", "text.cvdd", {}),  # end to end: its own token vectors, run once (fp32 row)
]


def pyod_anchors(train: np.ndarray, test: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    from pyod.models.ecod import ECOD
    from pyod.models.iforest import IForest
    from pyod.models.knn import KNN
    from pyod.models.lof import LOF
    from pyod.models.ocsvm import OCSVM
    from pyod.models.pca import PCA

    out = {}
    for name, model in (("ocsvm", OCSVM()), ("pca", PCA(random_state=seed)), ("knn", KNN()), ("lof", LOF()),
                        ("iforest", IForest(random_state=seed))):
        out[name] = model.fit(train).decision_function(test)
    ecod = ECOD().fit(train)
    out["ecod (batch)"] = ecod.decision_function(test)
    out["ecod (one at a time)"] = ecod_one_at_a_time(train, test)
    return out


def ecod_one_at_a_time(train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """PyOD's ECOD on each test text alone, vectorised over texts.

    ``ECOD.decision_function(X)`` refits on train + X; for a single x that is the ECDF of
    train plus x and the skewness of train plus x (from running moment sums), computed here
    for every x at once. Checked against PyOD on the first texts below.
    """
    n = len(train)
    srt = np.sort(train, axis=0)
    at_most = np.column_stack([np.searchsorted(srt[:, j], test[:, j], side="right") for j in range(train.shape[1])])
    at_least = n - np.column_stack([np.searchsorted(srt[:, j], test[:, j], side="left") for j in range(train.shape[1])])
    left, right = -np.log((at_most + 1) / (n + 1)), -np.log((at_least + 1) / (n + 1))
    s1, s2, s3 = train.sum(0), (train**2).sum(0), (train**3).sum(0)
    mean = (s1 + test) / (n + 1)
    e2, e3 = (s2 + test**2) / (n + 1), (s3 + test**3) / (n + 1)
    m2 = e2 - mean**2
    m3 = e3 - 3 * mean * e2 + 2 * mean**3
    sign = np.sign(np.where(m2 > 0, m3 / np.maximum(m2, 1e-300) ** 1.5, 0.0))
    skewed = left * -np.sign(sign - 1) + right * np.sign(sign + 1)
    return np.maximum(skewed, np.maximum(left, right)).sum(axis=1)


def check_one_at_a_time(train: np.ndarray, test: np.ndarray) -> None:
    from pyod.models.ecod import ECOD

    ref = np.array([ECOD().fit(train).decision_function(x[None])[0] for x in test[:5]])
    got = ecod_one_at_a_time(train, test[:5])
    if not np.allclose(ref, got, rtol=1e-6):
        raise SystemExit(f"vectorised one-at-a-time ECOD disagrees with PyOD: {got} vs {ref}")


def evaluate(y: np.ndarray, s: np.ndarray) -> dict[str, float]:
    return {"auroc": M.roc_auc(y, s), "aupr": M.average_precision(y, s)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--embeddings", default="fp32", help=f"comma list of {sorted(EMBEDDINGS)}")
    ap.add_argument("--detectors", default=None, help="comma list of row names (default: all)")
    ap.add_argument("--no-pyod", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)
    reg = get_registry()
    rows = [r for r in DETECTORS if args.detectors is None or r[0] in args.detectors.split(",")]
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    timing: dict[str, dict[str, float]] = {}
    for emb_name in args.embeddings.split(","):
        emb = EMBEDDINGS[emb_name]
        from omniad_text.embeddings import Embedder

        corpus = reg.get("dataset", "text.bbc").create({}).corpus()
        t0 = time.perf_counter()
        embedder = Embedder(emb, device="cpu")
        vectors = embedder.embed(corpus.texts)
        timing[emb_name] = {"embed_s": time.perf_counter() - t0, **{k: embedder.stats[k] for k in
                                                                   ("cache_hits", "cache_misses", "truncated")}}
        print(f"[{emb_name}] embedded {len(corpus.texts)} texts in {timing[emb_name]['embed_s']:.1f}s "
              f"({embedder.stats['cache_hits']} cached, {embedder.stats['truncated']} truncated)", flush=True)
        position = {t: i for i, t in enumerate(corpus.texts)}
        for seed in args.seeds:
            for subset in reg.get("dataset", "text.bbc").create({"seed": seed}).subsets():
                y = subset.test.labels
                if not args.no_pyod:
                    xtr = vectors[[position[t] for t in subset.train.samples]].astype(np.float64)
                    xte = vectors[[position[t] for t in subset.test.samples]].astype(np.float64)
                    if seed == args.seeds[0] and subset.name == "business":
                        check_one_at_a_time(xtr, xte)
                    for name, s in pyod_anchors(xtr, xte, seed).items():
                        results.setdefault(f"{emb_name}|pyod {name}", {}).setdefault(subset.name, []).append(evaluate(y, s))
                for row, detector_id, params in rows:
                    if detector_id == "text.cvdd" and emb_name != "fp32":
                        continue
                    t1 = time.perf_counter()
                    det = reg.get("detector", detector_id).create({"embedding": emb, **params}, device="cpu", seed=seed)
                    s = det.fit(subset.train.samples).score(subset.test.samples).sample
                    key = f"{emb_name}|{row}"
                    results.setdefault(key, {}).setdefault(subset.name, []).append(evaluate(y, s))
                    timing.setdefault(key, {"s": 0.0})["s"] += time.perf_counter() - t1
                print(f"[{emb_name}] seed {seed} {subset.name} done", flush=True)
    table = []
    for key, per_cat in results.items():
        emb_name, row = key.split("|", 1)
        auroc = np.mean([np.mean([r["auroc"] for r in runs]) for runs in per_cat.values()])
        aupr = np.mean([np.mean([r["aupr"] for r in runs]) for runs in per_cat.values()])
        per_seed = [np.mean([runs[i]["auroc"] for runs in per_cat.values()]) for i in range(len(args.seeds))]
        table.append({"embedding": emb_name, "detector": row, "auroc": float(auroc), "aupr": float(aupr),
                      "auroc_seed_min": float(min(per_seed)), "auroc_seed_max": float(max(per_seed)),
                      "per_category_auroc": {c: float(np.mean([r["auroc"] for r in runs])) for c, runs in per_cat.items()},
                      "seconds": timing.get(key, {}).get("s")})
    print("\n| embedding | detector | AUROC | AUPR | AUROC range over seeds |\n|---|---|---|---|---|")
    for t in table:
        print(f"| {t['embedding']} | {t['detector']} | {t['auroc']:.3f} | {t['aupr']:.3f} | "
              f"{t['auroc_seed_min']:.3f}-{t['auroc_seed_max']:.3f} |")
    if args.json:
        args.json.write_text(json.dumps({"seeds": args.seeds, "table": table, "timing": timing}, indent=1))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
