"""NSL-KDD one-class benchmark of the event detectors (omniad-events).

Protocol: fit on the 13,449 normal rows of KDDTrain+_20Percent, score KDDTest+ (22,544) and
KDDTest-21 (11,850); attacks are anomalies. The tabular PyOD detectors run through
``events.embedded`` on one-hot (protocol_type, service, flag) + min-max (38 numeric) vectors, and
again with log1p before min-max (CLAN's default numbers; rows "... log");
AVF and APE see the numbers as quantile-bin entities. Prints a markdown table (AUROC, AUPR,
recall at 5% FPR, mean per-category recall, fit and score seconds) and writes JSON with --out.

    OMNIAD_SHARED_DATA=/work/shared OMP_NUM_THREADS=2 python tools/bench_events_nsl_kdd.py
    python tools/bench_events_nsl_kdd.py --only events.ape events.clan --max-train 3000

``--synthetic`` prints instead the AUROC of each anomaly kind of ``events.synthetic`` (rare combination,
unseen entity, wrong context, burst in time) per detector, averaged over seeds.

Settings are chosen with ``--validation``, carved from the TRAINING file only, so KDDTest+ /
KDDTest-21 are scored once with the chosen defaults. Fit on 80 % of its normal rows; the other 20 %
plus all of its attack rows are the subset named KDDTest+ in the output. ``--validation-mode``:

* ``random`` (the earlier protocol): select on that subset's AUROC. It saturates (every method
  ~0.99: the file's attacks are 79 % DoS, mostly neptune floods), so it cannot tell settings apart.
* ``hard`` (default): mimic what makes the test files hard. A one-class model never sees an attack,
  so every attack type is already "novel" to it; what differs is (a) which rows: KDDTest-21 keeps
  the rows that not all 21 reference classifiers got right (difficulty < 21) and (b) the mix:
  KDDTest+ is 21 % R2L, the training file 2 %. So the subset named KDDTest-21 holds the held-out
  normal and attack rows of difficulty < 21 (the file's last column, as KDDTest-21 was cut), and
  the selection score is the macro mean over DoS / Probe / R2L / U2R of AUROC(those normals vs
  that category): every category counts the same whatever its share of the file (~735 normals,
  5,957 DoS / 2,273 Probe / 209 R2L / 11 U2R rows at seed 0; U2R is noisy). Rule fixed before
  looking: highest ``macro_auroc`` on that subset. It spreads the methods (0.6-0.96) but did not
  predict the test files for CLAN (its choice, k=1 on the projection, lost there; the events README).

``--params events.ape '{"dim": 32}'`` overrides one detector's parameters; ``--label`` renames the
rows (variants side by side).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from omniad.data import Split
from omniad.metrics.ranking import average_precision, roc_auc
from omniad.plugins import get_registry
from omniad.scores import Scores

DETECTORS: list[tuple[str, str, dict]] = [
    ("events.avf", "events.avf", {}),
    ("events.ape", "events.ape", {}),
    ("events.clan", "events.clan", {}),
    ("IForest", "events.embedded", {"detector": "pyod.iforest"}),
    ("KNN", "events.embedded", {"detector": "pyod.knn"}),
    ("ECOD", "events.embedded", {"detector": "pyod.ecod"}),
    ("HBOS", "events.embedded", {"detector": "pyod.hbos"}),
    # the same detectors on CLAN's default features (log1p of the numbers before min-max): a fair comparison
    ("IForest log", "events.embedded", {"detector": "pyod.iforest", "numbers": "log"}),
    ("KNN log", "events.embedded", {"detector": "pyod.knn", "numbers": "log"}),
    ("ECOD log", "events.embedded", {"detector": "pyod.ecod", "numbers": "log"}),
    ("HBOS log", "events.embedded", {"detector": "pyod.hbos", "numbers": "log"}),
]
#: PyOD on the same protocol, KDDTest+ (from issue 29)
ANCHORS = {"IForest": (0.948, 0.960), "KNN": (0.942, None), "ECOD": (0.935, None), "HBOS": (0.922, None)}


def validation_root(folder: Path, seed: int, mode: str = "hard") -> Path:
    """NSL-KDD-shaped files from the training file alone: fit on 80 % of its normal rows; KDDTest+ = the
    held-out 20 % and every training attack row; KDDTest-21 = the same (``random``) or, ``hard``, only
    its rows of difficulty < 21 (how the real KDDTest-21 was cut from KDDTest+)."""
    from omniad_events.datasets.nsl_kdd import TRAIN, default_root

    lines = (default_root() / TRAIN).read_text().splitlines()
    fields = [ln.split(",") for ln in lines]
    normal = np.array([f[41].strip() == "normal" for f in fields])
    hard = np.array([int(f[42]) < 21 for f in fields]) if mode == "hard" else np.ones(len(lines), bool)
    idx = np.flatnonzero(normal)
    idx = idx[np.random.default_rng(seed).permutation(len(idx))]
    cut = int(0.8 * len(idx))
    fit_rows = sorted(idx[:cut])
    val_rows = sorted([*idx[cut:], *np.flatnonzero(~normal)])
    (folder / TRAIN).write_text("\n".join(lines[i] for i in fit_rows) + "\n")
    (folder / "KDDTest+.txt").write_text("\n".join(lines[i] for i in val_rows) + "\n")
    (folder / "KDDTest-21.txt").write_text("\n".join(lines[i] for i in val_rows if hard[i]) + "\n")
    return folder


def category_aurocs(y: np.ndarray, scores: np.ndarray, categories: np.ndarray) -> dict[str, float]:
    """AUROC of the normal rows against each attack category alone, and their macro mean: AUROC is linear in
    the positives' mixture, so the mean is the AUROC of a test set holding every category in equal share."""
    out = {}
    for cat in ("DoS", "Probe", "R2L", "U2R"):
        pos = categories == cat
        if pos.any():
            keep = (y == 0) | pos
            out[cat] = roc_auc(y[keep], scores[keep])
    out["macro"] = float(np.mean(list(out.values()))) if out else float("nan")
    return out


#: per-kind table on events.synthetic (--synthetic): the detectors that see one event, then CAR (sequences + time)
SYNTHETIC: list[tuple[str, str, dict]] = [
    ("events.avf", "events.avf", {}),
    ("events.ape", "events.ape", {}),
    ("events.clan", "events.clan", {}),
    ("KNN", "events.embedded", {"detector": "pyod.knn"}),
    ("ECOD", "events.embedded", {"detector": "pyod.ecod"}),
    ("IForest", "events.embedded", {"detector": "pyod.iforest"}),
    ("events.car", "events.car", {"sequence_fields": ["service"]}),
    (
        "events.car (no time)",
        "events.car",
        {"sequence_fields": ["service"], "components": ["order", "content"]},
    ),
]
KINDS = ("rare_combination", "unseen_entity", "wrong_context", "burst")


def synthetic(seeds: list[int]) -> None:
    """AUROC of each anomaly kind against the normal test events of events.synthetic, mean over seeds."""
    reg = get_registry()
    params = {"n_train": 2000, "n_test_normal": 1000, "n_test_anomalous": 200}
    table: dict[str, list[dict]] = {}
    for seed in seeds:
        sub = next(iter(reg.get("dataset", "events.synthetic").create({**params, "seed": seed}).subsets()))
        cats = np.array(sub.test.meta["categories"])
        normal = cats == "normal"
        for label, did, p in SYNTHETIC:
            det = reg.get("detector", did).create(p, device="cpu", seed=seed)
            t0 = time.perf_counter()
            det.fit(sub.train.samples)
            t1 = time.perf_counter()
            s = det.score(sub.test.samples).sample
            t2 = time.perf_counter()
            row = {"all": roc_auc(sub.test.labels, s), "fit_s": t1 - t0, "score_s": t2 - t1}
            for k in KINDS:
                y = np.r_[np.zeros(normal.sum()), np.ones((cats == k).sum())]
                row[k] = roc_auc(y, np.r_[s[normal], s[cats == k]])
            table.setdefault(label, []).append(row)
            print(json.dumps({"detector": label, "seed": seed, **row}), flush=True)
    print(f"\n| detector | {' | '.join(KINDS)} | all | fit s | score s |")
    print("|---|" + "---|" * (len(KINDS) + 3))
    for label, rows in table.items():
        mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
        cells = " | ".join(f"{mean[k]:.3f}" for k in (*KINDS, "all"))
        print(f"| {label} | {cells} | {mean['fit_s']:.1f} | {mean['score_s']:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="labels or ids of the detectors to run (default all)")
    ap.add_argument("--max-train", type=int, default=None)
    ap.add_argument("--max-test", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--validation", action="store_true", help="score a split of the training file (choose settings here)"
    )
    ap.add_argument(
        "--validation-mode",
        choices=("hard", "random"),
        default="hard",
        help="hard: KDDTest-21-like rows (difficulty < 21), select on macro per-category AUROC; random: the old split",
    )
    ap.add_argument("--label", default=None, help="suffix added to every row's detector label (variants)")
    ap.add_argument(
        "--params",
        nargs=2,
        action="append",
        default=[],
        metavar=("LABEL", "JSON"),
        help="parameter overrides",
    )
    ap.add_argument(
        "--synthetic",
        nargs="*",
        type=int,
        default=None,
        metavar="SEED",
        help="instead: per-kind AUROC on events.synthetic (2,000 train, 1,000 normal + 200 anomalous test events) "
        "for these seeds (default 0 1 2)",
    )
    args = ap.parse_args()
    if args.synthetic is not None:
        synthetic(args.synthetic or [0, 1, 2])
        return
    overrides = {label: json.loads(text) for label, text in args.params}
    reg = get_registry()
    data_params: dict = {"max_train": args.max_train, "max_test": args.max_test}
    if args.validation:
        tmp = tempfile.TemporaryDirectory()
        root = validation_root(Path(tmp.name), args.seed, args.validation_mode)
        data_params["root"] = str(root)
        if args.validation_mode == "random":
            data_params["subsets"] = ["KDDTest+"]
    data = reg.get("dataset", "events.nsl_kdd").create(data_params)
    subsets = list(data.subsets())
    rows = []
    for label, did, params in DETECTORS:
        if args.only and label not in args.only and did not in args.only:
            continue
        params = {**params, **overrides.get(label, {})}
        det = reg.get("detector", did).create(params, device="cpu", seed=args.seed)
        t0 = time.perf_counter()
        det.fit(subsets[0].train.samples)
        fit_s = time.perf_counter() - t0
        for sub in subsets:
            t0 = time.perf_counter()
            s = det.score(sub.test.samples)
            score_s = time.perf_counter() - t0
            y = sub.test.labels
            split = Split(samples=sub.test.samples, labels=y, meta=sub.test.meta)
            cat = reg.get("metric", "events.category_recall").create({})(split, Scores(sample=s.sample))
            rec = reg.get("metric", "events.recall_at_fpr").create({})(split, Scores(sample=s.sample))
            row = {
                "detector": label,
                "subset": sub.name,
                "auroc": roc_auc(y, s.sample),
                "aupr": average_precision(y, s.sample),
                "recall_at_5fpr": rec["recall"],
                "category_recall": {k: v for k, v in cat.items() if k not in ("all",)},
                "fit_s": fit_s,
                "score_s": score_s,
                "n_train": len(sub.train),
                "n_test": len(y),
                "params": params,
                "validation": args.validation,
            }
            cat_auc = category_aurocs(np.asarray(y), s.sample, np.asarray(sub.test.meta["categories"]))
            row["category_auroc"] = cat_auc
            row["macro_auroc"] = cat_auc["macro"]
            if args.label:
                row["detector"] = f"{label} {args.label}"
            row["validation_mode"] = args.validation_mode if args.validation else None
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(
        "\n| detector | subset | AUROC | AUPR | recall@5%FPR | mean cat. recall (DoS/Probe/R2L/U2R) | "
        "macro cat. AUROC (DoS/Probe/R2L/U2R) | fit s | score s | anchor AUROC |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        c = r["category_recall"]
        cats = "/".join(f"{c.get(k, float('nan')):.2f}" for k in ("DoS", "Probe", "R2L", "U2R"))
        a = r["category_auroc"]
        aucs = "/".join(f"{a.get(k, float('nan')):.3f}" for k in ("DoS", "Probe", "R2L", "U2R"))
        anchor = (
            ANCHORS.get(r["detector"], (None,))[0]
            if r["subset"] == "KDDTest+" and not r["validation"]
            else None
        )
        print(
            f"| {r['detector']} | {r['subset']} | {r['auroc']:.3f} | {r['aupr']:.3f} | {r['recall_at_5fpr']:.3f} | "
            f"{c['mean']:.3f} ({cats}) | {a['macro']:.3f} ({aucs}) | {r['fit_s']:.1f} | {r['score_s']:.1f} | {anchor or ''} |"
        )
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
