"""Growth of image fit / score cost with the number of training images (issue 31).

Data: MPDD metal_plate's 50 real ``train/good`` photos ($OMNIAD_SHARED_DATA/data/mpdd), resized
to 64 px once and repeated to n images, each copy flipped / shifted / brightness-jittered with
a seeded generator so no two are identical (built in the child before the clock starts). The
arrays go in memory to ``omniad.fit`` (20 % held out for the threshold) and the same n images
to ``omniad.score``. Backbone: MobileNetV2 with the local ImageNet weights
($OMNIAD_SHARED_DATA/weights), layers blocks.2 + blocks.4, at 64 px so 16x of the base fits
this shared CPU. Cases:

- ``vision.patchcore``: memory bank of every patch + greedy coreset (10 %) + kNN scoring;
- ``vision.padim``: per-position Gaussian of the patch features;
- ``vision.efficientad``: student-teacher training for a fixed number of steps
  (train_steps=20, distil_steps=10 here; default 1000 / 400), so its fit is bounded by
  steps, not by n; the curve shows what still grows (feature pass, quantiles, scoring).

    python tools/bench_scale_vision.py [--quick] [--out docs/scale.md --plot docs/scale_vision.png]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_common import SHARED, Case, main, measured, quiet

MPDD = SHARED / "data" / "mpdd" / "metal_plate" / "train" / "good"
SIZE = 64
BACKBONE = {"backbone": "mobilenetv2_100", "layers": ["blocks.2", "blocks.4"], "weights": "imagenet",
            "image_size": SIZE, "batch_size": 32}
CASES = [
    Case("vision.patchcore", 50, "images", {"detector": "vision.patchcore",
                                           "params": {**BACKBONE, "coreset_ratio": 0.1}}),
    Case("vision.padim", 50, "images", {"detector": "vision.padim", "params": {**BACKBONE, "n_features": 100}}),
    Case("vision.efficientad", 50, "images", {"detector": "vision.efficientad", "params": {
        "image_size": SIZE, "train_steps": 20, "distil_steps": 10}},
        note="train_steps=20, distil_steps=10 (defaults 1000 / 400): training is a fixed number of steps, so fit time is not what grows with n; at 100 / 20 steps one fit took over 5 minutes on the busy CPU"),
]
QUICK = [Case(c.name, 5, c.unit, c.payload) for c in CASES]


def images(n: int, seed: int) -> list[Any]:
    """n distinct 64 px RGB uint8 images made from MPDD's real good photos."""
    import numpy as np
    from PIL import Image

    files = sorted(MPDD.glob("*.png"))
    if not files:
        raise SystemExit(f"no MPDD images under {MPDD}: set OMNIAD_SHARED_DATA to the folder holding data/mpdd")
    base = [np.asarray(Image.open(f).convert("RGB").resize((SIZE, SIZE), Image.BILINEAR)) for f in files]
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        img = base[i % len(base)]
        if rng.random() < 0.5:
            img = img[:, ::-1]
        if rng.random() < 0.5:
            img = img[::-1]
        img = np.roll(img, tuple(rng.integers(-4, 5, size=2)), axis=(0, 1))
        img = np.clip(img.astype(np.float32) * rng.uniform(0.9, 1.1), 0, 255).astype(np.uint8)
        out.append(np.ascontiguousarray(img))
    return out


def step(payload: dict[str, Any]) -> dict[str, Any]:
    import omniad

    detector, params = payload["detector"], payload["params"]
    warm = omniad.fit(detector, images(5, 1), params=params, device="cpu", say=quiet)
    omniad.score(warm, images(5, 2), pictures=0, say=quiet)
    train, test = images(payload["n"], 3), images(payload["n"], 4)
    result: dict[str, Any] = {}
    with measured(result, "fit"):
        model = omniad.fit(detector, train, params=params, device="cpu", say=quiet)
    with measured(result, "score"):
        out = omniad.score(model, test, pictures=0, say=quiet)
    bank = getattr(model, "memory_bank_", None)
    result["extra"] = {"memory_bank": None if bank is None else list(bank.shape)}
    if out.samples.n_rows != len(test):
        raise SystemExit(f"scored {out.samples.n_rows} images of {len(test)}")
    return result


if __name__ == "__main__":
    main(__file__, "vision", CASES, QUICK, step,
         describe=f"n = training images ({SIZE} px, MobileNetV2 ImageNet features); fit = `omniad.fit` "
                  "(80 % fit + 20 % held out), score = `omniad.score` of n other jittered images.")
