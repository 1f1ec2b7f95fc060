"""The point-wise NAB anchor of ``../shared/design/targets.md``, run side by side with omniad.

targets.md's protocol, which a PyOD/stumpy user would write by hand: each of the 35 labelled
NAB series z-normalised, sliding windows of 100 (stride 1), the model fitted on the whole
series, a timestep's score = the maximum over the windows that cover it, AUROC and AUPR
(average precision) per series, averaged with equal weight.

Reference rows run PyOD and stumpy directly in the same process (they reproduce the anchor's
figures: random 0.498 / 0.101, PyOD KNN 0.781 / 0.530, IForest 0.746 / 0.440, stumpy
discords 0.514 / 0.214). omniad rows run registry detectors on the same z-normalised series:
the same recipe through omniad's options (``window=100, point_score="max_cover"``), and the
fixed rules of docs/benchmark-nab.md at their own defaults. No row was tuned on these labels.

    python tools/bench_nab_pointwise.py            # writes the table into docs/benchmark-nab.md
    python tools/bench_nab_pointwise.py --no-doc --jobs 2
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_nab import fmt, series_names, write_doc

START, END = "<!-- pointwise:start -->", "<!-- pointwise:end -->"
WINDOW = 100
ANCHOR = {  # targets.md, mean AUROC / AUPR
    "random": (0.498, 0.101), "pyod.knn": (0.781, 0.530), "pyod.iforest": (0.746, 0.440), "stumpy": (0.514, 0.214),
}
REFERENCES = ["random", "pyod.knn", "pyod.iforest", "stumpy"]
COVER = {"window": WINDOW, "point_score": "max_cover"}
OMNIAD: list[tuple[str, str, dict[str, Any]]] = [  # (label, detector id, params), fixed before the run
    ("Sub-KNN, k=5, anchor recipe", "timeseries.sub_knn", {**COVER, "n_neighbors": 5, "normalize": "none"}),
    ("Sub-KNN, k=5, anchor recipe but TSB-AD's per-window z-score", "timeseries.sub_knn", {**COVER, "n_neighbors": 5}),
    ("IForest, anchor recipe", "timeseries.iforest", {**COVER, "max_features": 1.0, "n_estimators": 100}),
    ("IForest, anchor recipe but TSB-AD's one position per tree", "timeseries.iforest", COVER),
    ("matrix profile, anchor recipe", "timeseries.matrix_profile", COVER),
    ("Sub-PCA, anchor recipe", "timeseries.sub_pca", COVER),
    ("POLY, smoothed (TSB-AD window rule)", "timeseries.poly", {"smooth": True}),
    ("STRAY (default)", "timeseries.stray", {}),
    ("ensemble, min-max average (default members)", "timeseries.ensemble", {"combine": "minmax_mean"}),
]


def max_cover(window_scores: np.ndarray, length: int) -> np.ndarray:
    """Written out here, not imported, so that the reference rows share no code with omniad."""
    padded = np.concatenate([np.full(WINDOW - 1, -np.inf), window_scores, np.full(WINDOW - 1, -np.inf)])
    view = np.lib.stride_tricks.sliding_window_view(padded, WINDOW)
    return view.max(axis=1)[:length]


def reference_scores(name: str, x: np.ndarray) -> np.ndarray:
    windows = np.lib.stride_tricks.sliding_window_view(x, WINDOW)
    if name == "random":
        return np.random.default_rng(0).random(x.size)
    if name == "pyod.knn":
        from pyod.models.knn import KNN

        scores = KNN(n_neighbors=5, method="largest").fit(windows).decision_scores_
    elif name == "pyod.iforest":
        from pyod.models.iforest import IForest

        scores = IForest(random_state=0).fit(windows).decision_scores_
    else:
        import stumpy

        profile = stumpy.stump(x, WINDOW)[:, 0].astype(np.float64)
        scores = np.where(np.isfinite(profile), profile, np.nanmax(profile[np.isfinite(profile)]))
    return max_cover(np.asarray(scores, dtype=np.float64), x.size)


def run_one(row: str, series: str, root: str | None) -> dict[str, Any]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    import omniad

    registry = omniad.get_registry()
    nab = {"series": [series]} | ({"root": root} if root else {})
    (subset,) = list(registry.get("dataset", "timeseries.nab").create(nab).subsets())
    x = np.asarray(subset.test.samples[0], dtype=np.float64).reshape(-1)
    x = (x - x.mean()) / x.std()
    labels = np.asarray(subset.test.targets[0]).reshape(-1)
    cpu0 = time.process_time()
    if row in REFERENCES:
        scores = reference_scores(row, x)
    else:
        _, detector_id, params = next(r for r in OMNIAD if r[0] == row)
        det = registry.get("detector", detector_id).create(params, device="cpu", seed=0).fit([x])
        scores = np.asarray(det.score([x]).local[0], dtype=np.float64).reshape(-1)
    return {"row": row, "series": series, "cpu_s": time.process_time() - cpu0,
            "auroc": float(roc_auc_score(labels, scores)), "aupr": float(average_precision_score(labels, scores))}


def markdown(records: list[dict[str, Any]], n_series: int, command: str) -> str:
    import omniad

    lines = [
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `{command}` (omniad {omniad.__version__}, "
        f"{os.cpu_count()} CPUs); {n_series} series, z-normalised, window {WINDOW}, max over covering windows.",
        "",
        "| row | mean AUROC | mean AUPR | targets.md anchor (AUROC / AUPR) | CPU s / series |",
        "|---|---|---|---|---|",
    ]
    labels = {**{r: f"reference: {r} (direct)" for r in REFERENCES}, **{r[0]: f"omniad: {r[0]} (`{r[1]}`)" for r in OMNIAD}}
    rows = sorted({r["row"] for r in records}, key=lambda name: -np.mean([r["aupr"] for r in records if r["row"] == name]))
    for name in rows:
        mine = [r for r in records if r["row"] == name]
        anchor = ANCHOR.get(name)
        lines.append(
            f"| {labels[name]} | {fmt(np.mean([r['auroc'] for r in mine]))} | {fmt(np.mean([r['aupr'] for r in mine]))} | "
            f"{f'{anchor[0]:.3f} / {anchor[1]:.3f}' if anchor else ''} | {fmt(np.mean([r['cpu_s'] for r in mine]), 2)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", help="NAB folder (default: $OMNIAD_SHARED_DATA/data/nab)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--no-references", action="store_true", help="omniad rows only (no PyOD/stumpy needed)")
    parser.add_argument("--no-doc", action="store_true", help="print the table instead of writing the doc")
    args = parser.parse_args(argv)

    names = [name for _, name in series_names(args.root)]
    rows = ([] if args.no_references else REFERENCES) + [r[0] for r in OMNIAD]
    records = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_one, row, name, args.root) for row in rows for name in names]
        for future in futures:
            rec = future.result()
            records.append(rec)
            print(f"{rec['row']:48s} {rec['series']:45s} {rec['auroc']:.3f} {rec['aupr']:.3f}", flush=True)
    table = markdown(records, len(names), "python tools/bench_nab_pointwise.py")
    print(table)
    if not args.no_doc:
        write_doc(table, START, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
