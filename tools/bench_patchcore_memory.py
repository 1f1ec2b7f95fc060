"""PatchCore at scale: peak memory and time of a 1,000-image fit, and what the chunked coreset costs in quality.

    OMNIAD_SHARED_DATA=../shared OMP_NUM_THREADS=2 .venv/bin/python tools/bench_patchcore_memory.py --out bench_pc_mem.json
    ... --quick          # 200 generated images, exact anchor on 100, two quality variants (13 min, loaded CPU)
    ... --parts scale    # only the 1,000-image fit

Four parts, each fit in its own child process (so ``ru_maxrss`` is that fit's peak RSS), with the
anchor setup of ``bench_vision.py`` (MobileNetV2, local ImageNet weights, ``blocks.2`` + ``blocks.4``,
256 px, coreset ratio 0.1, 9 neighbours, batch 32):

1. **quality**: MPDD metal_plate's real split (50 train images = 51,200 patches; 111 test images):
   image AUROC, pixel AUROC and AUPRO of the exact greedy coreset and of chunked coresets
   (``coreset_chunk_size`` = 25 and 10 images, i.e. 2 and 5 chunks).
2. **scale**: ``--images`` (1,000) MPDD-sized (512 x 512) images generated from metal_plate's
   training images (flips, 90-degree rotations, crops of 85-100%, brightness / contrast jitter;
   seeded; written to a temporary folder and passed as paths, so decoded images never pile
   up), fitted under ``max_memory_gb`` (8) with ``coreset_chunk_size`` (``--chunk-images`` 25 =
   25,600 patches; the exact coreset of a million patches is hours of greedy steps); peak RSS,
   fit time, the plan, and the model's quality on the real test split.
3. **anchor**: the exact coreset and the chunked one on the first ``--exact-images`` (200)
   generated images, same run: time ratio and quality difference where exact is affordable.

4. **cap**: a wide backbone (WideResNet-50 ``layer2`` + ``layer3``, 1,536-d, random weights: only
   memory is measured, nothing is scored) on ``--cap-images`` (150) generated images under a
   ``--cap-gb`` (2) cap that the exact coreset (2.7 GB estimated) does not fit: the cap decides
   the chunks, warns, and the peak RSS is checked against it.

Timings on the shared 2-core machine are noisy: compare within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_vision import BACKBONE
from bench_vision_common import MPDD_ROOT, emit, mpdd_subset, quality

PATCHES_PER_IMAGE = 32 * 32  # MobileNetV2 blocks.2 at 256 px
PARAMS: dict[str, Any] = {**BACKBONE, "coreset_ratio": 0.1, "num_neighbors": 9}
TRAIN_GOOD = MPDD_ROOT / "metal_plate" / "train" / "good"


def generate(n: int, folder: Path, seed: int = 0) -> list[str]:
    """``n`` augmented copies of metal_plate's training images as PNG files; their paths."""
    import numpy as np
    from PIL import Image

    sources = sorted(TRAIN_GOOD.glob("*.png"))
    if not sources:
        raise SystemExit(f"no training images in {TRAIN_GOOD}; set OMNIAD_SHARED_DATA to the shared data folder")
    originals = [np.asarray(Image.open(p).convert("RGB")) for p in sources]
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        img = originals[int(rng.integers(len(originals)))]
        h, w = img.shape[:2]
        if rng.random() < 0.5:
            img = img[:, ::-1]
        if rng.random() < 0.5:
            img = img[::-1]
        img = np.rot90(img, int(rng.integers(4)))
        scale = rng.uniform(0.85, 1.0)
        ch, cw = int(h * scale), int(w * scale)
        y, x = int(rng.integers(h - ch + 1)), int(rng.integers(w - cw + 1))
        crop = Image.fromarray(np.ascontiguousarray(img[y : y + ch, x : x + cw])).resize((w, h), Image.BILINEAR)
        arr = np.asarray(crop, np.float32)
        arr = (arr - arr.mean()) * rng.uniform(0.9, 1.1) + arr.mean() * rng.uniform(0.9, 1.1)
        path = folder / f"{i:05d}.png"
        Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(path, compress_level=1)
        paths.append(str(path))
    return paths


def worker(spec: dict[str, Any]) -> None:
    """Fit one configuration, score the real test split, emit peak RSS, times, plan and quality."""
    import numpy as np

    import omniad

    omniad.get_registry().get("detector", "vision.patchcore").load()
    import timm  # noqa: F401  (imports are not fitting)

    subset = mpdd_subset()
    train = spec.get("paths") or subset.train.samples
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        det = omniad.create_detector("vision.patchcore", {**PARAMS, **spec["params"]}, seed=0).fit(train)
    fit_s = time.perf_counter() - t0
    fit_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    if spec.get("score", True):
        scores = det.score(subset.test.samples)
        masks = [np.asarray(subset.test.targets[i]) for i in range(len(subset.test))]
        metrics = quality(subset.test.labels, scores.sample, masks, scores.local)
    else:
        metrics = {}
    emit({
        "name": spec["name"], "train_images": len(train), "fit_s": fit_s, **det.timings_,
        "peak_rss_gb_before_fit": rss_before, "peak_rss_gb_fit": fit_peak,
        "bank_rows": len(det.memory_bank_), "plan": det.coreset_, "adjusted_params": det.adjusted_params,
        "warnings": [str(w.message) for w in caught if "max_memory_gb" in str(w.message)],
        "max_memory_gb": det.params.max_memory_gb, **metrics,
    })


def run_child(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "PYTHONWARNINGS": "ignore"}
    env.setdefault("OMP_NUM_THREADS", "2")
    cmd = [sys.executable, __file__, "--worker", json.dumps(spec)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"name": spec["name"], "error": f"timed out after {timeout:.0f} s"}
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return {**json.loads(line[len("BENCH_RESULT "):]), "process_s": time.perf_counter() - t0}
    return {"name": spec["name"], "error": f"exit {proc.returncode}: {proc.stderr.strip().splitlines()[-3:]}"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="200 generated images, exact anchor on 100, fewer variants")
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--exact-images", type=int, default=200, help="generated images for the exact-vs-chunked anchor (0: skip)")
    ap.add_argument("--max-memory-gb", type=float, default=8.0)
    ap.add_argument("--chunk-images", type=int, default=25, help="coreset_chunk_size of the scale fit, in images")
    ap.add_argument("--cap-images", type=int, default=150, help="generated images of the binding-cap check")
    ap.add_argument("--cap-gb", type=float, default=2.0, help="max_memory_gb of the binding-cap check")
    ap.add_argument("--parts", default="quality,anchor,scale,cap")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--out", type=Path, help="append results as JSON lines")
    args = ap.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return
    if args.quick:
        args.images, args.exact_images = min(args.images, 200), min(args.exact_images, 100)
    parts = set(args.parts.split(","))
    chunk = args.chunk_images * PATCHES_PER_IMAGE
    specs: list[dict[str, Any]] = []
    if "quality" in parts:
        specs.append({"name": "real exact", "params": {}})
        for images in ([10] if args.quick else [25, 10]):
            specs.append({"name": f"real chunked {images} img", "params": {"coreset_chunk_size": images * PATCHES_PER_IMAGE}})
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_pc_mem_") as tmp:
        n_gen = max(args.images if "scale" in parts else 0, args.exact_images if "anchor" in parts else 0,
                    args.cap_images if "cap" in parts else 0)
        if n_gen:
            t0 = time.perf_counter()
            paths = generate(n_gen, Path(tmp))
            print(f"generated {n_gen} images in {time.perf_counter() - t0:.0f} s", flush=True)
        if "anchor" in parts and args.exact_images:
            some = paths[: args.exact_images]
            specs.append({"name": f"{len(some)} gen exact", "paths": some, "params": {"max_memory_gb": None}})
            specs.append({"name": f"{len(some)} gen chunked {args.chunk_images} img", "paths": some,
                          "params": {"coreset_chunk_size": chunk}})
        if "scale" in parts:
            specs.append({"name": f"{args.images} gen chunked {args.chunk_images} img, cap {args.max_memory_gb} GB",
                          "paths": paths[: args.images],
                          "params": {"max_memory_gb": args.max_memory_gb, "coreset_chunk_size": chunk}})
        if "cap" in parts:
            specs.append({"name": f"{args.cap_images} gen wide_resnet50_2 (random weights), cap {args.cap_gb} GB",
                          "paths": paths[: args.cap_images], "score": False,
                          "params": {"backbone": "wide_resnet50_2", "layers": ["layer2", "layer3"], "weights": "random",
                                     "batch_size": 16, "max_memory_gb": args.cap_gb}})
        for spec in specs:
            out = run_child(spec, args.timeout)
            results.append(out)
            print(json.dumps({k: v for k, v in out.items() if k != "plan"}), flush=True)
            if args.out:
                with args.out.open("a") as fh:
                    fh.write(json.dumps(out) + "\n")
    print_table(results)


def print_table(results: list[dict[str, Any]]) -> None:
    cols = ["train_images", "bank_rows", "image_auroc", "pixel_auroc", "aupro", "fit_s", "features_s", "coreset_s",
            "support_s", "peak_rss_gb_fit"]
    print("\n| run | " + " | ".join(cols) + " | plan |")
    print("|---" * (len(cols) + 2) + "|")
    for r in results:
        if "error" in r:
            print(f"| {r['name']} | error: {r['error']} |")
            continue
        cells = [f"{r[c]:.4f}" if c.endswith(("auroc", "aupro")) and c in r else
                 f"{r[c]:.2f}" if isinstance(r.get(c), float) else str(r.get(c, "-")) for c in cols]
        plan = r["plan"]
        note = (f"{plan['chunks']} chunk(s) of <= {plan['chunk_patches']} patches, ratio {plan['coreset_ratio']:.3g}, "
                f"est. {plan['estimated_gb']:.2f} GB (exact {plan['exact_gb']:.2f}), cap {r.get('max_memory_gb')}")
        print(f"| {r['name']} | " + " | ".join(cells) + f" | {note} |")
    by = {r["name"]: r for r in results if "error" not in r}
    exact = by.get("real exact")
    for name, r in by.items():
        if exact and name.startswith("real chunked"):
            print(f"{name}: image AUROC {r['image_auroc'] - exact['image_auroc']:+.4f}, pixel AUROC "
                  f"{r['pixel_auroc'] - exact['pixel_auroc']:+.4f}, AUPRO {r['aupro'] - exact['aupro']:+.4f} vs exact")
    gen_exact = next((r for n, r in by.items() if n.endswith("gen exact")), None)
    gen_chunked = next((r for n, r in by.items() if " gen chunked" in n and "cap" not in n), None)
    if gen_exact and gen_chunked:
        print(f"anchor ({gen_exact['train_images']} generated images): coreset {gen_exact['coreset_s'] / gen_chunked['coreset_s']:.1f}x "
              f"faster chunked; image AUROC {gen_chunked['image_auroc'] - gen_exact['image_auroc']:+.4f}, pixel AUROC "
              f"{gen_chunked['pixel_auroc'] - gen_exact['pixel_auroc']:+.4f}, AUPRO {gen_chunked['aupro'] - gen_exact['aupro']:+.4f}")


if __name__ == "__main__":
    main()
