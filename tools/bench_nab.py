"""Parity benchmark with TSB-AD 1.5 on the 35 labelled NAB series of ``$OMNIAD_SHARED_DATA/data/nab``.

Runs every registered time-series detector (classic and neural, through the registry) with
its default parameters (= TSB-AD's published optimal ones) under TSB-AD's protocol:

- raw values (no scaling beyond what each detector does itself);
- unsupervised detectors (card ``fit_on="test"``) are fitted on the series they score;
  semi-supervised ones on the series' train prefix (TSB-AD's ``_tr_N`` rule, see
  docs/datasets.md). Like TSB-AD, a semi-supervised detector whose window follows the period
  rule gets the window of the *scored* series (``find_length_rank(test, periodicity)``);
- metrics from omniad's registry: VUS-PR/VUS-ROC with the window ``find_length_rank(rank=1)``
  of the series (TSB-AD's ``slidingWindow``), AUC-PR (average precision), AUC-ROC and
  range-F1 at the best threshold; one value per series, averaged with equal weight.

CPU seconds are process CPU time of fit + score of one series (all threads), not wall time.
Results go to a JSON-lines cache (``--cache``) so a long run can be resumed or split; the
Markdown tables are written between the ``bench:start``/``bench:end`` markers of
``docs/benchmark-nab.md``.

Usage (from the repository root)::

    .venv/bin/python tools/bench_nab.py                 # everything
    .venv/bin/python tools/bench_nab.py --detectors 'timeseries.sub_*,timeseries.poly'
    .venv/bin/python tools/bench_nab.py --report-only   # tables from the cache
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import platform
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "packages" / "omniad-timeseries" / "docs" / "benchmark-nab.md"
DEFAULT_CACHE = Path(os.environ.get("TMPDIR", "/tmp")) / "omniad_bench_nab.jsonl"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"

# TSB-AD 1.5's own detectors on these 35 series (mean VUS-PR), ../shared/design/targets.md
TSBAD_VUS_PR = {
    "timeseries.poly": ("POLY", 0.468),
    "timeseries.sub_pca": ("Sub-PCA", 0.389),
    "timeseries.sub_iforest": ("Sub-IForest", 0.316),
    "timeseries.iforest": ("IForest", 0.303),
    "timeseries.usad": ("USAD", 0.297),
    "timeseries.sub_lof": ("Sub-LOF", 0.288),
    "timeseries.kmeansad": ("KMeansAD", 0.275),
    "timeseries.autoencoder": ("AutoEncoder", 0.264),
    "timeseries.kshapead": ("KShapeAD", 0.263),
    "timeseries.matrix_profile": ("MatrixProfile", 0.263),
    "timeseries.sub_knn": ("Sub-KNN", 0.262),
    "timeseries.sub_hbos": ("Sub-HBOS", 0.229),
    "timeseries.cnn": ("CNN", 0.215),
    "timeseries.sr": ("SR", 0.196),
    "timeseries.lstm_ad": ("LSTMAD", 0.183),
    "timeseries.sub_mcd": ("Sub-MCD", 0.178),
    "timeseries.lof": ("LOF", 0.150),
    "timeseries.random": ("random", 0.125),
}
PARITY = 0.03
METRICS = [  # (column, metric id, params, value key)
    ("VUS-PR", "timeseries.vus_pr", {}, "vus_pr"),
    ("VUS-ROC", "timeseries.vus_roc", {}, "vus_roc"),
    ("AUC-PR", "core.local_aupr", {}, None),
    ("AUC-ROC", "core.local_auroc", {}, None),
    ("R-F1", "timeseries.range_f1", {"threshold": "best"}, None),
]
# extra rows: (label, detector id, params); settings chosen before the run, see the doc
VARIANTS: list[tuple[str, str, dict[str, Any]]] = [
    ("IForest, all positions per tree", "timeseries.iforest", {"max_features": 1.0}),
    ("Sub-IForest, all positions per tree", "timeseries.sub_iforest", {"max_features": 1.0}),
    ("ensemble, min-max average", "timeseries.ensemble", {"combine": "minmax_mean"}),
    ("STRAY, no smoothing", "timeseries.stray", {"smooth": False}),
    ("POLY, smoothed over one window", "timeseries.poly", {"smooth": True}),
    ("USAD, min-max scaled input (the USAD paper)", "timeseries.usad", {"normalize": "minmax"}),
    ("Sub-KNN, raw windows", "timeseries.sub_knn", {"normalize": "none"}),
    ("Sub-KNN, targets.md's point-wise recipe (raw windows of 100, k=5, max over covering windows)",
     "timeseries.sub_knn", {"window": 100, "n_neighbors": 5, "normalize": "none", "point_score": "max_cover"}),
]


def task_key(detector_id: str, params: dict[str, Any], series: str) -> str:
    blob = json.dumps([detector_id, params, series], sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def semi_supervised_window(entry: Any, params: dict[str, Any], test: np.ndarray) -> dict[str, Any]:
    """TSB-AD sizes a semi-supervised detector's window on the scored series; do the same."""
    from omniad_timeseries.periodicity import find_length_rank

    fields = entry.params_model().model_fields
    if entry.card.fit_on != "train" or "window" not in fields or "periodicity" not in fields:
        return params
    model = entry.validate_params(params)
    if model.window is not None:
        return params
    x = np.asarray(test, dtype=np.float64)
    x = x if x.ndim == 1 else x[:, 0]
    return {**params, "window": find_length_rank(x, rank=model.periodicity)}


def run_one(detector_id: str, params: dict[str, Any], series: str, root: str | None, seed: int) -> dict[str, Any]:
    """Fit, score and evaluate one detector on one NAB series (runs in a worker process)."""
    import omniad

    registry = omniad.get_registry()
    nab = {"series": [series]} | ({"root": root} if root else {})
    (subset,) = list(registry.get("dataset", "timeseries.nab").create(nab).subsets())
    entry = registry.get("detector", detector_id)
    record: dict[str, Any] = {"detector": detector_id, "params": params, "series": subset.name,
                              "category": subset.meta["category"]}
    try:
        run_params = semi_supervised_window(entry, params, subset.test.samples[0])
        det = entry.create(run_params, device="auto", seed=seed)
        fit_on = subset.train.samples if entry.card.fit_on == "train" else subset.test.samples
        cpu0, wall0 = time.process_time(), time.perf_counter()
        det.fit(fit_on)
        scores = det.score(subset.test.samples)
        record["cpu_s"] = time.process_time() - cpu0
        record["wall_s"] = time.perf_counter() - wall0
        for column, metric_id, metric_params, key in METRICS:
            value = registry.get("metric", metric_id).create(metric_params)(subset.test, scores)
            record[column] = float(value[key] if key else (next(iter(value.values())) if isinstance(value, dict) else value))
        record["status"] = "ok"
    except Exception as exc:  # a failure on one series is a result, not the end of the run
        record.update(status="failed", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc(limit=5))
    return record


def load_cache(path: Path) -> dict[str, dict[str, Any]]:
    out = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                out[rec["key"]] = rec
    return out


def select_detectors(patterns: list[str] | None) -> list[tuple[str, str, dict[str, Any]]]:
    import omniad

    registry = omniad.get_registry()
    ids = [e.id for e in registry.list("detector", modality="timeseries") if e.card.modality == "timeseries"]
    rows = [(TSBAD_VUS_PR.get(i, (i.split(".", 1)[1], None))[0], i, {}) for i in ids]
    rows += [v for v in VARIANTS if v[1] in ids]
    if patterns:
        rows = [r for r in rows if any(fnmatch.fnmatchcase(r[1], p) or fnmatch.fnmatchcase(r[0], p) for p in patterns)]
    return rows


def series_names(root: str | None) -> list[tuple[str, str]]:
    import omniad

    nab = omniad.get_registry().get("dataset", "timeseries.nab").create({"root": root} if root else {})
    return [(subset.name, subset.name.split("/", 1)[1]) for subset in nab.subsets()]  # the labelled ones


def summarise(rows: list[tuple[str, str, dict[str, Any]]], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for label, detector_id, params in rows:
        mine = [r for r in records if r["detector"] == detector_id and r["params"] == params]
        ok = [r for r in mine if r["status"] == "ok"]
        row: dict[str, Any] = {"label": label, "id": detector_id, "params": params, "n_ok": len(ok),
                               "n_failed": len(mine) - len(ok), "errors": sorted({r["error"][:160] for r in mine if r["status"] != "ok"})}
        for column, *_ in METRICS:
            row[column] = float(np.mean([r[column] for r in ok])) if ok else None
        row["cpu_s"] = float(np.mean([r["cpu_s"] for r in ok])) if ok else None
        categories = sorted({r["category"] for r in ok})
        row["by_category"] = {c: float(np.mean([r["VUS-PR"] for r in ok if r["category"] == c])) for c in categories}
        reference = TSBAD_VUS_PR.get(detector_id) if not params else None
        row["tsbad"] = reference[1] if reference else None
        out.append(row)
    return sorted(out, key=lambda r: -(r["VUS-PR"] or -1))


def oracle(records: list[dict[str, Any]], ids: set[str]) -> float | None:
    """Best detector per series after the fact (an upper bound, uses the labels)."""
    best: dict[str, float] = {}
    for r in records:
        if r["status"] == "ok" and r["detector"] in ids and not r["params"]:
            best[r["series"]] = max(best.get(r["series"], 0.0), r["VUS-PR"])
    return float(np.mean(list(best.values()))) if best else None


def fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def markdown(summary: list[dict[str, Any]], records: list[dict[str, Any]], command: str, n_series: int) -> str:
    import omniad

    lines = [
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `{command}` "
        f"(omniad {omniad.__version__}, Python {platform.python_version()}, numpy {np.__version__}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}); {n_series} series.",
        "",
        "| detector | VUS-PR | TSB-AD VUS-PR | Δ | VUS-ROC | AUC-PR | AUC-ROC | R-F1 | CPU s / series | failed |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in summary:
        delta = None if row["tsbad"] is None or row["VUS-PR"] is None else row["VUS-PR"] - row["tsbad"]
        mark = "" if delta is None else (" ✓" if abs(delta) <= PARITY else " ✗")
        params = f" `{json.dumps(row['params'])}`" if row["params"] else ""
        lines.append(
            f"| {row['label']} (`{row['id']}`){params} | {fmt(row['VUS-PR'])} | {fmt(row['tsbad'])} | "
            f"{'' if delta is None else f'{delta:+.3f}'}{mark} | {fmt(row['VUS-ROC'])} | {fmt(row['AUC-PR'])} | "
            f"{fmt(row['AUC-ROC'])} | {fmt(row['R-F1'])} | {fmt(row['cpu_s'], 2)} | {row['n_failed'] or ''} |"
        )
    categories = sorted({c for row in summary for c in row["by_category"]})
    lines += ["", "Mean VUS-PR per NAB category:", "",
              "| detector | " + " | ".join(categories) + " |", "|---" * (len(categories) + 1) + "|"]
    for row in summary:
        lines.append(f"| {row['label']} | " + " | ".join(fmt(row["by_category"].get(c)) for c in categories) + " |")
    failures = [(row["label"], e) for row in summary for e in row["errors"]]
    if failures:
        lines += ["", "Failures:", ""] + [f"- {label}: {error}" for label, error in failures]
    best = oracle(records, {row["id"] for row in summary})
    if best is not None:
        lines += ["", f"Best default detector per series, picked after the fact with the labels (an upper bound, "
                      f"not a method): {best:.3f}."]
    return "\n".join(lines)


def write_doc(table: str, start: str = START, end: str = END) -> None:
    """Replace what stands between the markers in the NAB doc (appended when missing)."""
    text = DOC.read_text() if DOC.is_file() else f"# NAB parity benchmark\n\n{start}\n{end}\n"
    if start not in text:
        text += f"\n{start}\n{end}\n"
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1] if end in rest else ""
    DOC.write_text(f"{head}{start}\n{table}\n{end}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detectors", help="comma-separated ids, labels or glob patterns (default: all)")
    parser.add_argument("--series", help="comma-separated NAB series names (default: the 35 labelled ones)")
    parser.add_argument("--root", help="NAB folder (default: $OMNIAD_SHARED_DATA/data/nab)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"JSON-lines results cache ({DEFAULT_CACHE})")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rerun", action="store_true", help="ignore cached results of the selected runs (needed after changing a default: the cache is keyed by the parameters given, not the defaults)")
    parser.add_argument("--report-only", action="store_true", help="no runs: tables from the cache")
    parser.add_argument("--no-doc", action="store_true", help="print the tables instead of writing the doc")
    args = parser.parse_args(argv)

    rows = select_detectors(args.detectors.split(",") if args.detectors else None)
    names = series_names(args.root)
    if args.series:
        wanted = set(args.series.split(","))
        names = [(k, n) for k, n in names if n in wanted or k in wanted]
    cache = load_cache(args.cache)
    tasks = [(label, det, params, name) for label, det, params in rows for _, name in names]
    todo = [t for t in tasks if args.rerun or task_key(t[1], t[2], t[3]) not in cache]
    if not args.report_only and todo:
        print(f"{len(todo)} runs ({len(tasks) - len(todo)} cached) -> {args.cache}", flush=True)
        args.cache.parent.mkdir(parents=True, exist_ok=True)
        with args.cache.open("a") as out, ProcessPoolExecutor(max_workers=args.jobs) as pool:
            futures = [(t, pool.submit(run_one, t[1], t[2], t[3], args.root, args.seed)) for t in todo]
            for (label, det, params, name), future in futures:
                record = future.result()
                record["key"] = task_key(det, params, name)
                cache[record["key"]] = record
                out.write(json.dumps(record) + "\n")
                out.flush()
                status = f"{record['VUS-PR']:.3f}" if record["status"] == "ok" else record["error"][:100]
                print(f"{label:40s} {name:45s} {status}", flush=True)
    records = [cache[task_key(t[1], t[2], t[3])] for t in tasks if task_key(t[1], t[2], t[3]) in cache]
    summary = summarise(rows, records)
    command = "python tools/bench_nab.py" + (
        f" --detectors '{args.detectors}'" if args.detectors else "")
    table = markdown(summary, records, command, len(names))
    if args.no_doc or args.series:
        print(table)
    else:
        write_doc(table)
        print(table)
        print(f"\nwritten to {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
