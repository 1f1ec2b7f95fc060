"""Benchmark the count-vector and graph log detectors on logdeep's HDFS sessions.

Protocol (``logs.hdfs_sessions``, DeepLog's): fit on a seeded half of ``hdfs_train`` (normal
sessions), test on the other half + all of ``hdfs_test_abnormal``. For each seed the split
and the detector share the seed; the table gives the mean (and spread) over seeds of F1 at
the detector's own decision, F1-max (best threshold, chosen with the test labels: an upper
bound), AUROC and AUPR, plus fit/score seconds.

    OMNIAD_SHARED_DATA=/work/shared .venv/bin/python tools/bench_logs_count.py [--seeds 0 1 2]
        [--detectors logs.pca ...] [--max-sessions N] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from omniad import metrics as M
from omniad.plugins import get_registry

DETECTORS: list[tuple[str, dict[str, Any]]] = [
    ("logs.pca", {}),
    ("logs.pca", {"weighting": "tfidf_loglizer"}),
    ("logs.invariant_mining", {}),
    ("logs.log_clustering", {}),
    ("logs.log_clustering", {"weighting": "tfidf_loglizer"}),
    ("logs.iforest", {}),
    ("logs.ocsvm", {}),
    ("logs.counts", {"detector": "core.knn"}),
    ("logs.glad", {}),
    ("logs.random", {}),
]


def shared_root() -> Path:
    return Path(os.environ.get("OMNIAD_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared"))


def run_one(detector_id: str, params: dict[str, Any], subset: Any, seed: int) -> dict[str, float]:
    det = get_registry().get("detector", detector_id).create(params, device="cpu", seed=seed)
    t0 = time.perf_counter()
    det.fit(subset.train.samples)
    t1 = time.perf_counter()
    scores = det.score(subset.test.samples)
    t2 = time.perf_counter()
    y = subset.test.labels
    out = {
        "f1_decision": float("nan"),
        "f1_max": M.best_f1(y, scores.sample)[0],
        "auroc": M.roc_auc(y, scores.sample),
        "aupr": M.average_precision(y, scores.sample),
        "fit_s": t1 - t0,
        "score_s": t2 - t1,
    }
    if scores.decision is not None:
        out["f1_decision"] = M.precision_recall_f1(y, scores.decision.astype(np.float64), 0.5)[2]
    return out


def label(detector_id: str, params: dict[str, Any]) -> str:
    return detector_id + ("" if not params else " " + json.dumps(params, separators=(",", "=")).strip("{}").replace('"', ""))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--detectors", nargs="+", default=None, help="ids to run (default: all in DETECTORS)")
    ap.add_argument("--max-sessions", type=int, default=None, help="sessions read per file (default: all)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    root = shared_root() / "data" / "hdfs_sessions"
    if not (root / "hdfs_train").is_file():
        print(f"error: hdfs_sessions not found at {root}; set OMNIAD_SHARED_DATA", file=sys.stderr)
        return 2
    chosen = [d for d in DETECTORS if args.detectors is None or d[0] in args.detectors]
    results: dict[str, list[dict[str, float]]] = {label(*d): [] for d in chosen}
    for seed in args.seeds:
        ds_params: dict[str, Any] = {"root": str(root), "seed": seed}
        if args.max_sessions:
            ds_params["max_sessions"] = args.max_sessions
        subset = next(iter(get_registry().get("dataset", "logs.hdfs_sessions").create(ds_params).subsets()))
        print(f"seed {seed}: {len(subset.train)} train, {len(subset.test)} test ({subset.test.n_anomalous} anomalous)",
              file=sys.stderr)
        for detector_id, params in chosen:
            row = run_one(detector_id, params, subset, seed)
            results[label(detector_id, params)].append(row)
            print(f"  {label(detector_id, params)}: " + ", ".join(f"{k} {v:.4f}" for k, v in row.items()), file=sys.stderr)
    cols = ["f1_decision", "f1_max", "auroc", "aupr", "fit_s", "score_s"]
    print("| detector | F1 @ own decision | F1-max | AUROC | AUPR | fit s | score s |")
    print("|---|---|---|---|---|---|---|")
    for name, rows in results.items():
        cells = []
        for c in cols:
            v = np.array([r[c] for r in rows])
            if np.isnan(v).all():
                cells.append("—")
            elif c.endswith("_s"):
                cells.append(f"{v.mean():.2f}")
            else:
                cells.append(f"{v.mean():.4f} ± {v.std():.4f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps({"seeds": args.seeds, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
