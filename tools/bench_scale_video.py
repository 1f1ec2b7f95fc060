"""Growth of video fit / score cost with the number of training frames (issue 31).

Data: the package's seeded synthetic videos (``video.synthetic``: discs walking along lanes,
64 px; anomaly: a disc too fast), 4 training videos of n/4 frames each (n training frames) and 2
test videos of n/4 frames (one normal, one anomalous); generated before the clock starts and
passed in memory. UCSD Ped2 holds 2,550 real training frames, too few for a 16x curve.
``omniad.fit`` on the training videos (20 % held out for the threshold), ``omniad.score`` of the
test videos. Cases:

- ``video.frame_knn``: thumbnail + frame-difference features, k-th nearest training frame
  (exact, chunked; memory bank capped at ``max_bank`` = 50,000 frames);
- ``video.frame_gaussian``: the same features under one Ledoit-Wolf Gaussian;
- ``video.cell_knn``: per-cell motion / appearance kNN, training frames capped at
  ``max_train_frames`` = 4,000 (the default).

    python tools/bench_scale_video.py [--quick] [--out docs/scale.md --plot docs/scale_video.png]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_common import Case, main, measured, quiet

CASES = [
    Case("video.frame_knn", 1_000, "training frames", {"detector": "video.frame_knn"},
         note="base 1k (16x = 16k frames), not 30k, to fit the time budget beside the other cases"),
    Case("video.frame_gaussian", 1_000, "training frames", {"detector": "video.frame_gaussian"}),
    Case("video.cell_knn", 1_000, "training frames", {"detector": "video.cell_knn"},
         note="training frames past max_train_frames=4,000 are subsampled by design, so fit flattens after 4k"),
]
QUICK = [Case(c.name, 80, c.unit, c.payload) for c in CASES]


def videos(n: int) -> tuple[list[Any], list[Any]]:
    import omniad

    params = {"n_train": 4, "n_test_normal": 1, "n_test_per_anomaly": 1, "anomalies": ["speed"],
              "n_frames": max(8, n // 4), "size": 64, "seed": 0}
    subset = omniad.create_dataset("video.synthetic", params).load()[0]
    return list(subset.train.samples), list(subset.test.samples)


def step(payload: dict[str, Any]) -> dict[str, Any]:
    import omniad

    detector = payload["detector"]
    small_train, small_test = videos(80)
    warm = omniad.fit(detector, small_train, device="cpu", say=quiet)
    omniad.score(warm, small_test, pictures=0, say=quiet)
    train, test = videos(payload["n"])
    result: dict[str, Any] = {}
    with measured(result, "fit"):
        model = omniad.fit(detector, train, device="cpu", say=quiet)
    with measured(result, "score"):
        out = omniad.score(model, test, pictures=0, say=quiet)
    result["extra"] = {"scored_frames": out.elements.n_rows}
    return result


if __name__ == "__main__":
    main(__file__, "video", CASES, QUICK, step,
         describe="n = training frames (4 synthetic 64 px videos); fit = `omniad.fit` (80 % fit + 20 % held out), "
                  "score = `omniad.score` of 2 test videos of n/4 frames each.")
