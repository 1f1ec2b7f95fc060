"""Benchmark EfficientAD and SimpleNet on MPDD metal_plate with local MobileNetV2 ImageNet weights.

Each model runs in its own child process, so its peak RSS is its own (taken after scoring,
before the metrics allocate their pixel arrays). Images are decoded before timing starts,
so ``fit_s`` and ``images_per_s`` measure the model (resize, network, maps), not PNG
decoding. CPU seconds are reported beside wall seconds because a shared machine's wall
times say more about the other jobs than about the model. Metrics: image AUROC (``core.auroc``), pixel AUROC
(``core.local_auroc``) and AUPRO up to FPR 0.3 (``vision.aupro``), all on raw scores.

    .venv/bin/python tools/bench_vision_extra.py --threads 2 \\
        --teacher bench-out/teachers/efficientad_s_mobilenetv2_mpdd.safetensors

``--set efficientad.train_steps=300`` overrides a parameter (value parsed as JSON when it can be).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_vision_common import write_results

MOBILENET = {"image_size": 256}
#: CPU-sized settings (2 shared cores, <= 10 minutes a model); the README of each model states them
MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "efficientad": ("vision.efficientad", {**MOBILENET, "train_steps": 200}),
    "simplenet": (
        "vision.simplenet",
        {**MOBILENET, "backbone": "mobilenetv2_100", "layers": ["blocks.2", "blocks.4"], "weights": "imagenet"},
    ),
}
METRICS = (("image_auroc", "core.auroc"), ("pixel_auroc", "core.local_auroc"), ("aupro", "vision.aupro"))


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--root", type=Path, default=None, help="MPDD root (default: $OMNIAD_SHARED_DATA/data/mpdd)")
    ap.add_argument("--category", default="metal_plate")
    ap.add_argument("--teacher", type=Path, default=None, help="EfficientAD teacher file (else distilled on the fly)")
    ap.add_argument("--set", action="append", default=[], metavar="MODEL.KEY=VALUE")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", type=Path, default=Path("bench-out/vision_extra"))
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--params", default=None, help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def model_params(args: argparse.Namespace, name: str) -> dict[str, Any]:
    params = dict(MODELS[name][1])
    if name == "efficientad" and args.teacher is not None:
        params["teacher_weights"] = str(args.teacher)
    for item in args.set:
        key, _, value = item.partition("=")
        model, _, field = key.partition(".")
        if model != name:
            continue
        try:
            params[field] = json.loads(value)
        except json.JSONDecodeError:
            params[field] = value
    return params


def run_worker(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from omniad.plugins import get_registry

    if args.threads:
        torch.set_num_threads(args.threads)
    registry = get_registry()
    detector_id, _ = MODELS[args.worker]
    params = json.loads(args.params)
    data = {"categories": [args.category], **({"root": str(args.root)} if args.root else {})}
    subset = next(iter(registry.get("dataset", "vision.mpdd").create(data).subsets()))
    train = [subset.train.samples[i] for i in range(len(subset.train))]
    test = [subset.test.samples[i] for i in range(len(subset.test))]
    det = registry.get("detector", detector_id).create(params, device=args.device, seed=args.seed)
    t0, c0 = time.perf_counter(), time.process_time()
    det.fit(train)
    fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    t1, c1 = time.perf_counter(), time.process_time()
    scores = det.score(test)
    score_s, score_cpu = time.perf_counter() - t1, time.process_time() - c1
    model_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the metrics' own arrays
    result: dict[str, Any] = {
        "model": args.worker, "detector": detector_id, "params": params, "category": args.category,
        "n_train": len(train), "n_test": len(test), "device": det.device, "threads": torch.get_num_threads(),
        "fit_s": round(fit_s, 1), "fit_cpu_s": round(fit_cpu, 1), "images_per_s": round(len(test) / score_s, 2),
        "images_per_cpu_s": round(len(test) / score_cpu, 2), "peak_rss_mb": round(model_rss),
    }
    for column, metric_id in METRICS:
        result[column] = round(float(registry.get("metric", metric_id).create({})(subset.test, scores)), 4)
    losses = getattr(det, "train_losses_", None)
    if losses:
        k = max(1, len(losses) // 20)
        result["loss_first_last"] = [round(sum(losses[:k]) / k, 4), round(sum(losses[-k:]) / k, 4)]
    if hasattr(det, "distillation_"):
        result["distillation"] = det.distillation_
    return result


def markdown(rows: list[dict[str, Any]]) -> str:
    head = "| model | image AUROC | pixel AUROC | AUPRO | fit s (CPU s) | images/s (per CPU s) | peak RSS MB |"
    lines = [head, "|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['model']} | error: {r['error'][:80]} | | | | | |")
            continue
        lines.append(
            f"| {r['model']} | {r['image_auroc']:.4f} | {r['pixel_auroc']:.4f} | {r['aupro']:.4f} | "
            f"{r['fit_s']:.0f} ({r['fit_cpu_s']:.0f}) | {r['images_per_s']:.2f} ({r['images_per_cpu_s']:.2f}) | "
            f"{r['peak_rss_mb']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.worker:
        print("RESULT " + json.dumps(run_worker(args)), flush=True)
        return 0
    rows = []
    for name in args.models:
        cmd = [sys.executable, __file__, "--worker", name, "--params", json.dumps(model_params(args, name)),
               "--category", args.category, "--seed", str(args.seed), "--threads", str(args.threads),
               "--device", args.device]
        if args.root:
            cmd += ["--root", str(args.root)]
        print(f"== {name}: {' '.join(cmd[2:6])}", flush=True)
        env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}  # spinning OpenMP threads distort shared-CPU timings
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        found = [line[7:] for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        row = json.loads(found[-1]) if found else {"model": name, "error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
        print(json.dumps(row), flush=True)
        rows.append(row)
    return write_results(args.out, rows, markdown(rows))


if __name__ == "__main__":
    sys.exit(main())
