"""Log detectors on logdeep's pre-parsed HDFS sessions (``logs.hdfs_sessions``), seeds 0,1,2.

Every registered ``logs.*`` detector (or those named by ``--detectors``; ids that are not
registered are skipped with a note) runs on the same splits of both protocols:

- ``deeplog``: fit on a seeded half of ``hdfs_train`` (normal), test on the other half +
  ``hdfs_test_abnormal``. The test split is ~88% anomalous, which flatters precision: the
  normal/anomalous counts are printed with the table.
- ``logrobust``: a seeded half of ``robust_log_train.csv`` (labelled, balanced) trains, the
  other half tests. Unsupervised detectors are fitted on the normal sessions of that train
  half only; LogRobust (supervised) on all of it, with its labels.

Metrics from omniad's registry (F1 at the detector's own decision where it has one, F1-max,
AUROC, AUPR), mean over the seeds. Also the scoring throughput of DeepLog on CPU: all test
sessions in one batched call against a plain per-session loop (same model, same sessions).
The table goes between the ``bench:start``/``bench:end`` markers of
``packages/omniad-logs/docs/detectors-sequence.md``.

Usage (from the repository root; a few minutes per seed on 1 CPU thread)::

    OMNIAD_SHARED_DATA=/work/shared .venv/bin/python tools/bench_logs_hdfs.py
    .venv/bin/python tools/bench_logs_hdfs.py --detectors logs.deeplog --seeds 0 --no-doc
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "packages" / "omniad-logs" / "docs" / "detectors-sequence.md"
DEFAULT_CACHE = Path(os.environ.get("TMPDIR", "/tmp")) / "omniad_bench_logs_hdfs.jsonl"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
METRICS = ("core.prf_at_decision", "core.f1_max", "core.auroc", "core.aupr")
PROTOCOLS = ("deeplog", "logrobust")
#: F1 on full HDFS (logdeep's README), the issue's target on this data (F1 at the own decision) and
#: the protocol the target is set for
ANCHORS = {"logs.deeplog": ("DeepLog", 0.945, 0.95, "deeplog"), "logs.loganomaly": ("LogAnomaly", 0.976, 0.96, "deeplog"),
           "logs.logrobust": ("RobustLog", 0.940, 0.95, "logrobust")}
#: detectors that learn from labelled anomalies in the train split
SUPERVISED = {"logs.logrobust"}
#: extra rows beside the defaults: DeepLog's published g=9 (the default picks g on held-out normal sessions)
VARIANTS = {"logs.deeplog top_g=9": ("logs.deeplog", {"top_g": 9}),
            "logs.loganomaly top_g=9": ("logs.loganomaly", {"top_g": 9})}


def metric_values(registry: Any, split: Any, scores: Any) -> dict[str, float]:
    out: dict[str, float] = {}
    for mid in METRICS:
        try:
            value = registry.get("metric", mid).create()(split, scores)
        except Exception as exc:  # a detector without own decision has no F1@decision
            out[mid] = float("nan")
            out[f"{mid}:error"] = str(exc)[:120]  # type: ignore[assignment]
            continue
        if isinstance(value, dict):
            first = next(iter(value))
            out[mid] = float(value[first])
            out.update({f"{mid}.{k}": float(v) for k, v in value.items() if k != first})
        else:
            out[mid] = float(value)
    return out


def run_one(registry: Any, label: str, protocol: str, seed: int, subset: Any) -> dict[str, Any]:
    detector_id, params = VARIANTS.get(label, (label, {}))
    entry = registry.get("detector", detector_id)
    det = entry.create(params, device="cpu", seed=seed)
    if entry.card.fit_on == "test":
        data = subset.test.samples
    elif detector_id in SUPERVISED:
        data = subset.train.samples
    else:  # unsupervised methods learn normal behaviour: the labelled anomalies of the logrobust protocol stay out
        data = [s for s, y in zip(subset.train.samples, subset.train.labels, strict=True) if y == 0]
    t0 = time.perf_counter()
    det.fit(data)
    t1 = time.perf_counter()
    scores = det.score(subset.test.samples)
    t2 = time.perf_counter()
    counts = getattr(det, "fit_counts_", {})
    return {"detector": label, "params": params, "protocol": protocol, "seed": seed, "fit_s": round(t1 - t0, 2),
            "score_s": round(t2 - t1, 2), "fit_counts": counts, **metric_values(registry, subset.test, scores)}


def throughput(registry: Any, subset: Any, seed: int, n: int) -> dict[str, Any]:
    """Sessions/s of DeepLog scoring: one batched call vs a per-session loop over the same sessions."""
    det = registry.get("detector", "logs.deeplog").create({}, device="cpu", seed=seed).fit(subset.train.samples)
    sessions = list(subset.test.samples)[:n]
    t0 = time.perf_counter()
    batched = det.score(sessions).sample
    t1 = time.perf_counter()
    looped = np.array([det.score([s]).sample[0] for s in sessions])
    t2 = time.perf_counter()
    return {"sessions": len(sessions), "batched_per_s": len(sessions) / (t1 - t0),
            "loop_per_s": len(sessions) / (t2 - t1), "max_abs_diff": float(np.abs(batched - looped).max())}


def fmt(values: list[float], digits: int = 3) -> str:
    arr = np.array([v for v in values if v == v])
    if not arr.size:
        return "—"
    return f"{arr.mean():.{digits}f}" + (f" ± {arr.std():.{digits}f}" if arr.size > 1 else "")


def table(rows: list[dict[str, Any]], counts: dict[str, dict[str, int]], tp: dict[str, Any] | None,
          seeds: list[int], skipped: list[str]) -> str:
    lines: list[str] = []
    for protocol in PROTOCOLS:
        sel = [r for r in rows if r["protocol"] == protocol]
        if not sel:
            continue
        c = counts.get(protocol, {})
        lines += ["", f"**protocol={protocol}** — at seed {seeds[-1]}: train {c.get('n_train')} sessions "
                      f"({c.get('n_train_anomalous', 0)} labelled anomalous), test {c.get('n_test_normal')} normal + "
                      f"{c.get('n_test_anomalous')} anomalous. Mean ± std over seeds {','.join(map(str, seeds))}", "",
                  "| detector | F1 @ own decision | precision | recall | F1-max | AUROC | AUPR | fit s | score s | anchor F1 (full HDFS) | target |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for det in sorted({r["detector"] for r in sel}, key=lambda d: (d.split()[0] not in ANCHORS, d)):
            rs = [r for r in sel if r["detector"] == det]

            def col(k: str, rs: list[dict[str, Any]] = rs) -> str:
                return fmt([r.get(k, float("nan")) for r in rs], 1 if k.endswith("_s") else 3)

            anchor = ANCHORS.get(det)
            lines.append(
                f"| {det} | {col('core.prf_at_decision')} | {col('core.prf_at_decision.precision')} | "
                f"{col('core.prf_at_decision.recall')} | {col('core.f1_max')} | {col('core.auroc')} | "
                f"{col('core.aupr')} | {col('fit_s')} | {col('score_s')} | "
                f"{f'{anchor[0]} {anchor[1]:.3f}' if anchor else '—'} | {f'≥ {anchor[2]:.2f}' if anchor and anchor[3] == protocol else '—'} |"
            )
    if tp:
        lines += ["", f"DeepLog scoring throughput, CPU, 1 torch thread, {tp['sessions']} test sessions: "
                      f"{tp['batched_per_s']:,.0f} sessions/s batched (one call, distinct windows once) vs "
                      f"{tp['loop_per_s']:,.0f} sessions/s in a per-session loop "
                      f"({tp['batched_per_s'] / tp['loop_per_s']:.0f}x; largest score difference {tp['max_abs_diff']:.1e})."]
    if skipped:
        lines += ["", "Not registered here, skipped: " + ", ".join(skipped) + "."]
    lines += ["", f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
                  f"failed runs are listed in the cache ({DEFAULT_CACHE.name})."]
    return "\n".join(lines)


def write_doc(text: str) -> None:
    doc = DOC.read_text() if DOC.is_file() else f"# Sequence detectors\n\n{START}\n{END}\n"
    if START not in doc:
        doc += f"\n{START}\n{END}\n"
    head, rest = doc.split(START, 1)
    tail = rest.split(END, 1)[1] if END in rest else ""
    DOC.write_text(f"{head}{START}\n{text}\n{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detectors", help="comma-separated logs.* ids (default: every registered logs.* detector)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--protocols", default=",".join(PROTOCOLS))
    parser.add_argument("--throughput-sessions", type=int, default=2000, help="0 = skip the throughput check")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="JSON-lines results (resumable)")
    parser.add_argument("--rerun", action="store_true", help="ignore cached results")
    parser.add_argument("--no-variants", action="store_true", help="only the default parameters")
    parser.add_argument("--no-doc", action="store_true", help="print the table instead of writing the doc")
    args = parser.parse_args(argv)

    import omniad

    registry = omniad.get_registry()
    registered = sorted(e.id for e in registry.list("detector") if e.id.startswith("logs."))
    wanted = args.detectors.split(",") if args.detectors else registered
    skipped = [d for d in wanted if d not in registered]
    detectors = [d for d in wanted if d in registered]
    detectors += [v for v, (d, _) in VARIANTS.items() if d in detectors and not args.no_variants]
    seeds = [int(s) for s in args.seeds.split(",")]
    cache: dict[tuple[str, str, int], dict[str, Any]] = {}
    if args.cache.is_file() and not args.rerun:
        for line in args.cache.read_text().splitlines():
            r = json.loads(line)
            cache[(r["detector"], r["protocol"], r["seed"])] = r
    counts: dict[str, dict[str, int]] = {}
    rows: list[dict[str, Any]] = []
    for protocol in args.protocols.split(","):
        for seed in seeds:
            subset = next(iter(registry.get("dataset", "logs.hdfs_sessions")
                               .create({"protocol": protocol, "seed": seed}).subsets()))
            counts[protocol] = {k: subset.meta.get(k, 0) for k in ("n_train", "n_train_anomalous", "n_test_normal", "n_test_anomalous")}
            for det in detectors:
                key = (det, protocol, seed)
                if key not in cache:
                    try:
                        cache[key] = run_one(registry, det, protocol, seed, subset)
                    except Exception as exc:
                        cache[key] = {"detector": det, "protocol": protocol, "seed": seed,
                                      "error": f"{type(exc).__name__}: {exc}"[:300]}
                        traceback.print_exc(limit=2)
                    with args.cache.open("a") as f:
                        f.write(json.dumps(cache[key]) + "\n")
                r = cache[key]
                print(json.dumps(r), flush=True)
                if "error" not in r:
                    rows.append(r)
    tp = None
    if args.throughput_sessions and "logs.deeplog" in detectors:
        subset = next(iter(registry.get("dataset", "logs.hdfs_sessions").create({"seed": seeds[0]}).subsets()))
        tp = throughput(registry, subset, seeds[0], args.throughput_sessions)
        print(json.dumps({"throughput": tp}), flush=True)
    text = table(rows, counts, tp, seeds, skipped)
    if args.no_doc:
        print(text)
    else:
        write_doc(text)
        print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
