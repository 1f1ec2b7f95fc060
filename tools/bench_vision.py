"""MPDD metal_plate benchmark: omniad vision detectors side by side with anomalib 2.7.

    OMNIAD_SHARED_DATA=../shared .venv/bin/python tools/bench_vision.py \
        --anomalib-python /tmp/bench-anomalib/bin/python --repeats 2 --out bench_vision.json

Every measurement runs in its own process (so peak RSS is per model), omniad and anomalib
runs alternate within each repeat (so a busy shared CPU slows both alike), and all
processes get ``OMP_WAIT_POLICY=PASSIVE`` (on an oversubscribed CPU, spinning OpenMP
threads made both libraries several times slower and their timings meaningless). Quality
is deterministic given the seed; times are reported per repeat and as ratios within a
repeat. Without ``--anomalib-python`` only omniad runs and the anomalib figures of
``../shared/design/targets.md`` are printed for comparison.

Settings follow the anomalib anchor: MobileNetV2 (local ImageNet weights), layers
``blocks.2`` + ``blocks.4`` (128-d, 32x32 grid), 256x256 resize without crop, ImageNet
normalisation, coreset ratio 0.1, 9 neighbours, raw scores, batch size 32.
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
from bench_vision_common import (
    MODEL_SIZE,
    Clock,
    batched,
    emit,
    mpdd_subset,
    peak_rss_mb,
    quality,
    resize_masks,
    timed_batches,
)

BACKBONE = {
    "backbone": "mobilenetv2_100", "layers": ["blocks.2", "blocks.4"], "weights": "imagenet",
    "image_size": 256, "batch_size": 32,
}
#: (name, omniad detector id, params) of every configuration in the results table
OMNIAD_RUNS: dict[str, tuple[str, dict[str, Any]]] = {
    "patchcore": ("vision.patchcore", {**BACKBONE, "coreset_ratio": 0.1, "num_neighbors": 9, "map_interpolation": "nearest"}),
    "patchcore_bilinear": ("vision.patchcore", {**BACKBONE, "coreset_ratio": 0.1, "num_neighbors": 9}),
    "padim": ("vision.padim", {**BACKBONE, "n_features": None}),
    "padim_ledoit_wolf": ("vision.padim", {**BACKBONE, "n_features": None, "covariance": "ledoit_wolf"}),
    "gaussian_mvg": ("vision.gaussian_mvg", {**BACKBONE, "layers": ["blocks.0", "blocks.1", "blocks.2", "blocks.4", "blocks.6"]}),
    "gaussian_mvg_npca": ("vision.gaussian_mvg", {**BACKBONE, "layers": ["blocks.0", "blocks.1", "blocks.2", "blocks.4", "blocks.6"], "npca_variance": 0.99}),
    "random": ("vision.random", {}),
}
ANOMALIB_RUNS = {"patchcore": "patchcore", "padim": "padim"}
TARGETS_MD = {  # ../shared/design/targets.md, anomalib 2.7 on this data
    "patchcore": {"image_auroc": 0.9984, "pixel_auroc": 0.9917, "aupro": 0.9503, "fit_s": "234-269",
                  "images_per_s": "7.8-10.8", "peak_rss_mb": "1900-2100"},
    "padim": {"image_auroc": 0.7881, "pixel_auroc": 0.9607, "aupro": 0.8673},
}


def omniad_worker(name: str) -> None:
    import numpy as np
    import torch

    import omniad
    from omniad_vision.preprocess import to_tensor

    detector_id, params = OMNIAD_RUNS[name]
    subset = mpdd_subset()
    omniad.get_registry().get("detector", detector_id).load()  # imports (torch, timm) are not fitting
    import timm  # noqa: F401

    clock = Clock()
    with clock("fit_s"):
        det = omniad.create_detector(detector_id, params, seed=0).fit(subset.train.samples)
    timings = getattr(det, "timings_", {})
    # model only: pre-processed 256x256 batches in, scores and 256x256 maps out
    has_graph = hasattr(det, "score_batch")
    maps256: list[Any] = []
    if has_graph:
        images = [subset.test.samples[i] for i in range(len(subset.test))]
        tensors = [to_tensor(b, MODEL_SIZE, det.params.mean, det.params.std) for b in batched(images, 32)]
        del images
        with torch.inference_mode():
            outs, seconds = timed_batches(det.score_batch, tensors)
        maps256 = [] if outs[0][1] is None else [m for _, ms in outs for m in ms.numpy()]
        del tensors
    # end to end: file paths in, maps at 512x512 out
    t0 = time.perf_counter()
    scores = det.score(subset.test.samples)
    e2e = time.perf_counter() - t0
    if not has_graph:
        seconds = e2e
    rss = peak_rss_mb()
    masks = [np.asarray(subset.test.targets[i]) for i in range(len(subset.test))]
    result = {
        "system": "omniad", "model": name, **clock.seconds, **timings,
        "images_per_s": len(subset.test) / seconds, "images_per_s_end_to_end": len(subset.test) / e2e,
        "peak_rss_mb": rss, **quality(subset.test.labels, scores.sample, masks, scores.local),
    }
    if maps256:
        result.update(quality(subset.test.labels, scores.sample, resize_masks(masks, MODEL_SIZE), maps256, prefix="at256_"))
    emit(result)


def run_worker(cmd: list[str], timeout: float) -> dict[str, Any]:
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "PYTHONWARNINGS": "ignore"}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            out = json.loads(line[len("BENCH_RESULT "):])
            out["process_s"] = time.perf_counter() - t0
            return out
    return {"error": f"exit {proc.returncode}: {proc.stderr.strip().splitlines()[-1:] or proc.stdout[-300:]}", "cmd": cmd}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--anomalib-python", help="python of a venv with anomalib==2.7.0 (and omniad importable)")
    ap.add_argument("--models", default=",".join(OMNIAD_RUNS), help="omniad configurations to run")
    ap.add_argument("--anomalib-models", default="patchcore,padim")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--out", type=Path, help="append results as JSON lines")
    args = ap.parse_args()
    if args.worker:
        omniad_worker(args.worker)
        return
    here = Path(__file__).resolve().parent
    results = []
    for repeat in range(args.repeats):
        plan = [("omniad", m) for m in args.models.split(",") if m]
        if args.anomalib_python:
            # alternate: anomalib PatchCore right after omniad PatchCore, and so on
            for m in reversed([m for m in args.anomalib_models.split(",") if m]):
                idx = next((i for i, (_, o) in enumerate(plan) if o == m), len(plan) - 1)
                plan.insert(idx + 1, ("anomalib", m))
        for system, model in plan:
            if system == "omniad":
                cmd = [sys.executable, str(here / "bench_vision.py"), "--worker", model]
            else:
                cmd = [args.anomalib_python, str(here / "bench_vision_anomalib.py"), "--model", ANOMALIB_RUNS[model]]
            out = {**run_worker(cmd, args.timeout), "repeat": repeat, "system": system, "model": model}
            results.append(out)
            print(json.dumps(out), flush=True)
            if args.out:
                with args.out.open("a") as fh:
                    fh.write(json.dumps(out) + "\n")
    print_tables(results)


def print_tables(results: list[dict[str, Any]]) -> None:
    cols = ["image_auroc", "pixel_auroc", "aupro", "at256_pixel_auroc", "at256_aupro", "fit_s", "features_s",
            "coreset_s", "images_per_s", "images_per_s_end_to_end", "peak_rss_mb"]
    print("\n| repeat | system | model | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 3) + "|")
    for r in results:
        cells = [f"{r[c]:.4f}" if isinstance(r.get(c), float) and c.endswith(("auroc", "aupro")) else
                 (f"{r[c]:.1f}" if isinstance(r.get(c), float) else str(r.get(c, "")) or "-") for c in cols]
        print(f"| {r['repeat']} | {r['system']} | {r['model']} | " + " | ".join(cells) + " |")
    by = {(r["repeat"], r["system"], r["model"]): r for r in results}
    for (repeat, system, model), r in sorted(by.items()):
        other = by.get((repeat, "anomalib", model))
        if system == "omniad" and other and "fit_s" in other and "fit_s" in r:
            print(f"repeat {repeat} {model}: fit {other['fit_s'] / r['fit_s']:.1f}x faster, "
                  f"inference {r['images_per_s'] / other['images_per_s']:.1f}x, "
                  f"peak RSS {r['peak_rss_mb']:.0f} vs {other['peak_rss_mb']:.0f} MB")
    if not any(r["system"] == "anomalib" for r in results):
        print("anomalib not run; its figures from ../shared/design/targets.md:", json.dumps(TARGETS_MD))


if __name__ == "__main__":
    main()
