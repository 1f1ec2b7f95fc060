"""MPDD metal_plate benchmark of the frozen-ViT methods (issue 30) beside PatchCore-MobileNetV2.

    OMP_NUM_THREADS=2 OMNIAD_SHARED_DATA=../shared .venv/bin/python tools/bench_vision_foundation.py \
        --sections patchcore,full,fewshot,ncd --out bench_foundation.json

Sections (each appends JSON lines to ``--out`` and prints a table):

- ``patchcore``: PatchCore on MobileNetV2 (local ImageNet weights, anomalib-anchor settings of
  ``bench_vision.py``): the anchor every row is compared with, in the same run;
- ``full``: each method fitted on all 50 normal training images (one-class full-shot), scored on
  the 111 test images: image / pixel AUROC and AUPRO at the images' resolution, fit and score seconds;
- ``fewshot``: k normal shots drawn with seeds 0..4 (``shots``/``seed`` of the detector); image and
  pixel AUROC (every 4th pixel row / column) as mean +- std over seeds. For the reference-bank methods the
  test images' tokens are computed once (``graph_.score_tokens``), as they do not depend on the shots;
  INP-Former scores through ``score``; every fit runs through ``fit`` as usual;
- ``ncd``: AnomalyNCD's clustering of defect types. MPDD metal_plate's test folder has a single
  defect type, so three synthetic defect types (dark scratches, bright spots, foreign texture
  patches) are painted on the held-out normal test images and clustered; NMI / ARI / Hungarian
  accuracy against the painted types.

Images at 224 px for the ViT (16 x 16 tokens of block 7 by default), 256 px for PatchCore. Timings are
wall clock on a shared CPU: compare them with the PatchCore row of the same run only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_vision_common import MOBILENET_WEIGHTS, mpdd_subset, quality

PATCHCORE = ("vision.patchcore", {
    "backbone": "mobilenetv2_100", "layers": ["blocks.2", "blocks.4"], "weights": str(MOBILENET_WEIGHTS),
    "image_size": 256, "batch_size": 32, "coreset_ratio": 0.1, "num_neighbors": 9, "map_interpolation": "nearest",
})
#: method -> (detector id, params) of the full-shot rows
METHODS: dict[str, tuple[str, dict[str, Any]]] = {
    "anomalydino": ("vision.anomalydino", {}),
    "dictas": ("vision.dictas", {}),
    "inpformer": ("vision.inpformer", {}),
    "anomalyncd": ("vision.anomalyncd", {}),
}
FEWSHOT = {"anomalydino": (1, 2, 4, 8), "dictas": (1,), "inpformer": (1,)}


def record(out: Path | None, row: dict[str, Any]) -> None:
    print(json.dumps(row), flush=True)
    if out is not None:
        with out.open("a") as f:
            f.write(json.dumps(row) + "\n")


def full_row(name: str, detector_id: str, params: dict[str, Any], subset: Any, seed: int = 0) -> dict[str, Any]:
    import omniad

    det = omniad.create_detector(detector_id, params, device="cpu", seed=seed)
    t0 = time.perf_counter()
    det.fit(subset.train.samples)
    t1 = time.perf_counter()
    scores = det.score(subset.test.samples)
    t2 = time.perf_counter()
    q = quality(subset.test.labels, scores.sample, subset.test.targets, scores.local)
    return {"section": "full", "method": name, "detector": detector_id, "params": params, "seed": seed,
            **{k: round(float(v), 4) for k, v in q.items()}, "fit_s": round(t1 - t0, 1), "score_s": round(t2 - t1, 1),
            "n_test": len(subset.test), "provenance": det.provenance()}


def fewshot_rows(name: str, detector_id: str, shots_list: tuple[int, ...], subset: Any, seeds: int) -> list[dict[str, Any]]:
    import torch

    import omniad
    from omniad.metrics import roc_auc

    rows, cached = [], None
    masks = np.concatenate([np.asarray(m, np.float32)[::4, ::4].ravel() for m in subset.test.targets]) > 0.5
    for shots in shots_list:
        image, pixel, fit_s = [], [], []
        for seed in range(seeds):
            det = omniad.create_detector(detector_id, {"shots": shots}, device="cpu", seed=seed)
            t0 = time.perf_counter()
            det.fit(subset.train.samples)
            fit_s.append(time.perf_counter() - t0)
            if not hasattr(det.graph_, "score_tokens"):  # a trained model: score through the detector
                out = det.score(subset.test.samples)
                image.append(roc_auc(subset.test.labels, out.sample))
                pixel.append(roc_auc(masks, np.concatenate([m[::4, ::4].ravel() for m in out.local])))
                continue
            if cached is None:  # the test tokens do not depend on the shots
                with torch.inference_mode():
                    cached = [(shapes, det.tokens(x)) for _, shapes, x in det.batches(subset.test.samples, "bench")]
            scores, maps = [], []
            with torch.inference_mode():
                for shapes, tok in cached:
                    s, m = det.graph_.score_tokens(tok, det.nn_.search)
                    scores.append(s.double().numpy())
                    up = torch.nn.functional.interpolate(m[:, None], size=tuple(shapes[0]), mode="bilinear",
                                                         align_corners=False)[:, 0]
                    maps.extend(u[::4, ::4].numpy().ravel() for u in up)
            image.append(roc_auc(subset.test.labels, np.concatenate(scores)))
            pixel.append(roc_auc(masks, np.concatenate(maps)))
        rows.append({"section": "fewshot", "method": name, "shots": shots, "seeds": seeds,
                     "image_auroc_mean": round(float(np.mean(image)), 4), "image_auroc_std": round(float(np.std(image)), 4),
                     "pixel_auroc_mean": round(float(np.mean(pixel)), 4), "pixel_auroc_std": round(float(np.std(pixel)), 4),
                     "image_auroc_per_seed": [round(float(v), 4) for v in image], "fit_s_mean": round(float(np.mean(fit_s)), 1)})
    return rows


DEFECT_TYPES = ("scratch", "spot", "stain")


def paint(image: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """One synthetic defect of ``kind`` on a copy of an RGB uint8 image, at a random place."""
    out = image.astype(np.float32).copy()
    h, w = out.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    cy, cx = rng.uniform(0.25, 0.75) * h, rng.uniform(0.25, 0.75) * w
    if kind == "scratch":  # a long thin dark line
        angle, length = rng.uniform(0, np.pi), rng.uniform(0.2, 0.35) * w
        u = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
        v = -(xx - cx) * np.sin(angle) + (yy - cy) * np.cos(angle)
        mask = (np.abs(u) < length / 2) & (np.abs(v) < 0.005 * w + 1)
        out[mask] *= 0.25
    elif kind == "spot":  # a bright round blob
        r = rng.uniform(0.03, 0.05) * w
        mask = (yy - cy) ** 2 + (xx - cx) ** 2 < r**2
        out[mask] = 0.3 * out[mask] + 0.7 * 245.0
    else:  # a rust-coloured rough square patch
        half = rng.uniform(0.05, 0.07) * w
        mask = (np.abs(yy - cy) < half) & (np.abs(xx - cx) < half)
        noise = rng.normal(0, 25, size=(int(mask.sum()), 3))
        out[mask] = np.array([150.0, 75.0, 35.0]) + noise
    return np.clip(out, 0, 255).astype(np.uint8)


def ncd_rows(subset: Any, seeds: int) -> list[dict[str, Any]]:
    """AnomalyNCD on the 30 held-out normal test images, each painted with each defect type (90 anomalies)."""
    import omniad
    from omniad_vision.detectors.anomalyncd.model import cluster
    from omniad_vision.metrics.clustering import clustering_scores

    normal = [np.asarray(subset.test.samples[i]) for i in range(len(subset.test)) if subset.test.labels[i] == 0]
    rng = np.random.default_rng(0)
    images, truth = [], []
    for kind in DEFECT_TYPES:
        for img in normal:
            images.append(paint(img, kind, rng))
            truth.append(kind)
    params = {"shots": 8}
    det = omniad.create_detector("vision.anomalyncd", params, device="cpu", seed=0)
    t0 = time.perf_counter()
    det.fit(subset.train.samples)
    t1 = time.perf_counter()
    found = det.discover(images, n_classes=len(DEFECT_TYPES))
    t2 = time.perf_counter()
    detected = det.score(normal + images).sample
    from omniad.metrics import roc_auc

    rows = []
    for given in (True, False):
        per_seed = []
        for seed in range(seeds):
            labels, _ = cluster(found.embeddings, len(DEFECT_TYPES) if given else None, det.params.max_classes, seed)
            per_seed.append({**clustering_scores(truth, labels), "k": len(set(labels.tolist()))})
        rows.append({
            "section": "ncd", "method": "anomalyncd", "params": params, "n_classes": "given (3)" if given else "silhouette",
            "defect_types": list(DEFECT_TYPES), "n_images": len(images), "cluster_seeds": seeds,
            **{f"{m}_mean": round(float(np.mean([r[m] for r in per_seed])), 4) for m in ("nmi", "ari", "accuracy", "k")},
            **{f"{m}_std": round(float(np.std([r[m] for r in per_seed])), 4) for m in ("nmi", "ari", "accuracy")},
            "painted_vs_normal_image_auroc": round(roc_auc(np.r_[np.zeros(len(normal)), np.ones(len(images))], detected), 4),
            "fit_s": round(t1 - t0, 1), "discover_s": round(t2 - t1, 1),
        })
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sections", default="patchcore,full,fewshot,ncd")
    ap.add_argument("--methods", default=",".join(METHODS), help="methods of the full and fewshot sections")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=None, help="append JSON lines here")
    args = ap.parse_args()
    sections, methods = args.sections.split(","), args.methods.split(",")
    subset = mpdd_subset()
    if "patchcore" in sections:
        record(args.out, {**full_row("patchcore_mobilenetv2", *PATCHCORE, subset), "section": "patchcore"})
    if "full" in sections:
        for name in methods:
            if name in METHODS and name != "anomalyncd":  # AnomalyNCD scores as AnomalyDINO does
                record(args.out, full_row(name, *METHODS[name], subset))
    if "fewshot" in sections:
        for name in methods:
            if name in FEWSHOT:
                for row in fewshot_rows(name, METHODS[name][0], FEWSHOT[name], subset, args.seeds):
                    record(args.out, row)
    if "ncd" in sections:
        for row in ncd_rows(subset, args.seeds):
            record(args.out, row)


if __name__ == "__main__":
    main()
