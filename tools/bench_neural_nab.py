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
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--detectors", nargs="+", required=True)
    ap.add_argument("--params", default="{}", help="JSON: detector id -> parameter overrides")
    ap.add_argument("--tag", default="", help="suffix for the result rows (e.g. the variant)")
    ap.add_argument("--series", nargs="*", default=None, help="NAB series patterns (default: all labelled)")
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
    dataset = omniad.create_dataset("timeseries.nab", {"series": args.series} if args.series else {})
    subsets = list(dataset.subsets())
    results = {}
    for det_id in args.detectors:
        name = det_id + (f"[{args.tag}]" if args.tag else "")
        rows = []
        for subset in subsets:
            x, y = np.asarray(subset.test.samples[0]), np.asarray(subset.test.targets[0])
            det = omniad.create_detector(det_id, overrides.get(det_id, {}), seed=args.seed, device=args.device)
            cpu, wall = time.process_time(), time.perf_counter()
            det.fit(subset.train.samples)
            score = det.score([x]).local[0]
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            span = np.ptp(score)
            scaled = (score - score.min()) / (span if span > 0 else 1.0)
            window = find_length_rank(x, rank=1)
            rows.append({
                "series": subset.name, "vus_pr": float(vus_pr(y, scaled, window)),
                "auc_pr": float(average_precision_score(y, scaled)), "cpu_s": cpu, "wall_s": wall,
            })
            if args.save_scores is not None:
                args.save_scores.mkdir(parents=True, exist_ok=True)
                np.save(args.save_scores / f"{name}__{subset.name.replace('/', '__')}.npy", score)
        summary = {k: float(np.mean([r[k] for r in rows])) for k in ("vus_pr", "auc_pr", "cpu_s", "wall_s")}
        results[name] = {"params": overrides.get(det_id, {}), "summary": summary, "series": rows}
        print(f"{name:40s} n={len(rows)} VUS-PR {summary['vus_pr']:.4f} AUC-PR {summary['auc_pr']:.4f} "
              f"cpu/series {summary['cpu_s']:.1f}s wall/series {summary['wall_s']:.1f}s", flush=True)
    if args.out is not None:
        existing = json.loads(args.out.read_text()) if args.out.is_file() else {}
        args.out.write_text(json.dumps({**existing, **results}, indent=1))


if __name__ == "__main__":
    main()
