"""Benchmark: omniad's neural time-series detectors on the labelled NAB series (TSB-AD protocol).

Each detector is fitted on the series' train prefix (``timeseries.nab``'s TSB-AD rule) and
scores the whole series; the per-timestep scores are min-max scaled and rated with VUS-PR
(buffer = ``find_length_rank(series)``, 250 thresholds: TSB-AD's leaderboard setting) and
AUC-PR. Prints one line per detector and writes JSON with per-series values.

    .venv/bin/python tools/bench_neural_nab.py --detectors timeseries.usad timeseries.cnn \\
        [--params '{"timeseries.usad": {"normalize": "none"}}'] [--tag raw] [--series 'art_*'] \\
        [--threads 1] [--out results.json] [--save-scores DIR]

Needs the NAB copy in ``$OMNIAD_SHARED_DATA/data/nab`` (default ``../shared``). One torch
thread by default: these networks are small, and on a busy 2-core machine two OpenMP threads
spend more time waiting for each other than computing.

``--dataset timeseries.synthetic --dataset-params '{"n_channels": 6, ...}'`` runs the same
loop on another registered dataset; where subsets list their injected anomalies with the
affected channels (``meta["anomalies"]``, as ``timeseries.synthetic`` does) and the detector
returns ``per_variable`` scores, the root-cause hit rate is reported too: the share of
anomalies whose highest mean per-variable score falls on an affected channel.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def root_cause_hits(per_variable: list | None, anomalies: list | None) -> dict[str, int]:
    """How many injected anomalies have their largest mean per-variable score on an affected channel."""
    if not per_variable or not anomalies:
        return {}
    pv = np.asarray(per_variable[0])
    hits = sum(int(np.argmax(pv[a["start"] : a["end"]].mean(0))) in a["channels"] for a in anomalies)
    return {"root_cause_hits": int(hits), "root_cause_total": len(anomalies)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--detectors", nargs="+", required=True)
    ap.add_argument("--params", default="{}", help="JSON: detector id -> parameter overrides")
    ap.add_argument("--tag", default="", help="suffix for the result rows (e.g. the variant)")
    ap.add_argument("--series", nargs="*", default=None, help="NAB series patterns (default: all labelled)")
    ap.add_argument("--dataset", default="timeseries.nab")
    ap.add_argument("--dataset-params", default="{}", help="JSON parameters of --dataset")
    ap.add_argument("--seed", type=int, default=2024, help="TSB-AD's benchmark seed")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--save-scores", type=Path, default=None)
    args = ap.parse_args()

    import torch
    from sklearn.metrics import average_precision_score

    import omniad
    from omniad_timeseries.metrics.vus import vus_pr
    from omniad_timeseries.periodicity import find_length_rank

    torch.set_num_threads(args.threads)
    overrides = json.loads(args.params)
    dataset_params = json.loads(args.dataset_params)
    if args.series:
        dataset_params["series"] = args.series
    subsets = list(omniad.create_dataset(args.dataset, dataset_params).subsets())
    results = {}
    for det_id in args.detectors:
        name = det_id + (f"[{args.tag}]" if args.tag else "")
        rows = []
        for subset in subsets:
            x, y = np.asarray(subset.test.samples[0]), np.asarray(subset.test.targets[0])
            det = omniad.create_detector(det_id, overrides.get(det_id, {}), seed=args.seed, device=args.device)
            cpu, wall = time.process_time(), time.perf_counter()
            det.fit(subset.train.samples)
            scores = det.score([x])
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            score = scores.local[0]
            span = np.ptp(score)
            scaled = (score - score.min()) / (span if span > 0 else 1.0)
            window = find_length_rank(x if x.ndim == 1 else x[:, 0], rank=1)
            rows.append({
                "series": subset.name, "vus_pr": float(vus_pr(y, scaled, window)),
                "auc_pr": float(average_precision_score(y, scaled)), "cpu_s": cpu, "wall_s": wall,
                **root_cause_hits(scores.extras.get("per_variable"), subset.meta.get("anomalies")),
            })
            if args.save_scores is not None:
                args.save_scores.mkdir(parents=True, exist_ok=True)
                np.save(args.save_scores / f"{name}__{subset.name.replace('/', '__')}.npy", score)
        summary = {k: float(np.mean([r[k] for r in rows])) for k in ("vus_pr", "auc_pr", "cpu_s", "wall_s")}
        if any("root_cause_total" in r for r in rows):
            hits, total = (sum(r.get(k, 0) for r in rows) for k in ("root_cause_hits", "root_cause_total"))
            summary["root_cause_top1"] = hits / max(total, 1)
        results[name] = {"params": overrides.get(det_id, {}), "summary": summary, "series": rows}
        cause = f" root-cause top-1 {summary['root_cause_top1']:.2f}" if "root_cause_top1" in summary else ""
        print(f"{name:40s} n={len(rows)} VUS-PR {summary['vus_pr']:.4f} AUC-PR {summary['auc_pr']:.4f}{cause} "
              f"cpu/series {summary['cpu_s']:.1f}s wall/series {summary['wall_s']:.1f}s", flush=True)
    if args.out is not None:
        existing = json.loads(args.out.read_text()) if args.out.is_file() else {}
        args.out.write_text(json.dumps({**existing, **results}, indent=1))


if __name__ == "__main__":
    main()
