"""Frame detectors on real UCSD Ped2 (../shared/data/ucsd_ped2): frame AUROC micro and macro, fit and score time.

    python tools/bench_video_ped2.py                                  # every configuration below
    python tools/bench_video_ped2.py --only knn-pixels grid-knn       # some of them
    python tools/bench_video_ped2.py --max-side 180 --json ped2.json
    python tools/bench_video_ped2.py --only cell-knn --pictures ped2-pictures   # one PNG per test video

Protocol: fit on the 16 normal training videos, score the 12 test videos (2,010 frames).
``micro`` = frame AUROC pooled over all test frames (``core.local_auroc``, the number papers
report); ``macro`` = mean of the per-video frame AUROCs (``video.frame_auroc_macro``; videos
with one class only are left out); ``micro_norm`` = micro after min-max normalising the scores
within each test video, which several papers do (Liu et al. 2018, MNAD) and which uses each test
video's own score range — reported beside the plain number, never instead of it.
Times are wall-clock on this machine (CPU), fit over the 2,550 training frames, score over the
2,010 test frames (frames per second = 2,010 / score time).
``--pictures DIR`` draws, per configuration and test video, ``DIR/<config>/<video>.png``: the
frame-score curve with the true anomalous frames shaded and the four highest-scored frames with
the detector's heat map over them (cell distances for ``video.cell_knn``, prediction error for
``video.future_frame``; the whole-frame detectors have none, so their thumbnails are plain).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import omniad
from omniad.data import Split
from omniad.plugins import get_registry
from omniad.scores import Scores
from omniad.shared import shared_data_root

PED2 = shared_data_root() / "data" / "ucsd_ped2"
VISION = "vision:mobilenetv2_100"
#: name -> (detector id, params)
CONFIGS: dict[str, tuple[str, dict]] = {
    "knn-pixels": ("video.frame_knn", {}),
    "gaussian-pixels": ("video.frame_gaussian", {}),
    "knn-mobilenet": ("video.frame_knn", {"features": VISION}),
    "gaussian-mobilenet": ("video.frame_gaussian", {"features": VISION}),
    "cell-knn": ("video.cell_knn", {}),
    "cell-knn-step2": ("video.cell_knn", {"flow_step": 2, "flow_radius": 3}),  # the defaults before (4x cheaper matching)
    "cell-knn-noflow": ("video.cell_knn", {"flow": False}),  # the detector before the block-matching cues
    "cell-knn-regions": ("video.cell_knn", {"regions": True}),  # + moving regions' place and size
    "cell-knn-regions-mobilenet": ("video.cell_knn", {"regions": True, "region_features": VISION}),  # + their crops
    "cell-knn-regions-mobilenet-64": ("video.cell_knn", {"regions": True, "region_features": VISION,
                                                         "region_crop_size": 64}),  # the crop size before
    "future-frame": ("video.future_frame", {"frame_size": 64, "epochs": 10}),
    "future-frame-128": ("video.future_frame", {"frame_size": 128, "epochs": 10}),  # 4x the pixels: ~25 min of fit
}


def normalised(scores: Scores) -> Scores:
    """Per-video min-max normalisation of frame scores (the papers' option, stated wherever it is used)."""
    local = []
    for s in scores.local:
        s = np.asarray(s, dtype=np.float64)
        span = np.nanmax(s) - np.nanmin(s)
        local.append((s - np.nanmin(s)) / span if span > 0 else np.zeros_like(s))
    return Scores(sample=scores.sample, local=local)


def evaluate(test: Split, scores: Scores) -> dict[str, float]:
    return {
        "micro": float(omniad.create_metric("core.local_auroc")(test, scores)),
        "macro": float(omniad.create_metric("video.frame_auroc_macro")(test, scores)["auroc_macro"]),
        "micro_norm": float(omniad.create_metric("core.local_auroc")(test, normalised(scores))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--max-side", type=int, default=180, help="frames are decoded at most this long side (180: half size)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="write the rows here too")
    parser.add_argument("--pictures", type=Path, default=None,
                        help="draw every test video's score curve and top frames here, one folder per configuration")
    args = parser.parse_args()
    if not (PED2 / "UCSDped2.m").is_file():
        raise SystemExit(f"UCSD Ped2 not found at {PED2}; set OMNIAD_SHARED_DATA to the shared folder")
    t0 = time.perf_counter()
    dataset = get_registry().get("dataset", "video.ucsd").create({"root": str(PED2), "max_side": args.max_side})
    (subset,) = dataset.subsets()
    n_train = sum(v.n_frames for v in subset.train.samples)
    n_test = sum(v.n_frames for v in subset.test.samples)
    print(f"Ped2 read in {time.perf_counter() - t0:.1f} s: {n_train} training frames, {n_test} test frames", flush=True)
    rows = []
    for name in args.only:
        detector_id, params = CONFIGS[name]
        det = get_registry().get("detector", detector_id).create(params, device="cpu", seed=args.seed)
        t0 = time.perf_counter()
        det.fit(subset.train.samples)
        t1 = time.perf_counter()
        scores = det.score(subset.test.samples)
        t2 = time.perf_counter()
        row = {"config": name, "detector": detector_id, "params": params, **evaluate(subset.test, scores),
               "fit_s": t1 - t0, "score_s": t2 - t1, "score_fps": n_test / (t2 - t1)}
        rows.append(row)
        print(f"| {name} | {detector_id} | {row['micro']:.3f} | {row['macro']:.3f} | {row['micro_norm']:.3f} | "
              f"{row['fit_s']:.0f} s | {row['score_s']:.0f} s ({row['score_fps']:.0f} fps) |", flush=True)
        if args.pictures:
            drawn = dataset.render_examples(subset, scores, args.pictures / name, max_examples=len(subset.test))
            if not drawn:
                print("  no pictures drawn: matplotlib is not installed", flush=True)
            else:
                print(f"  {len(drawn)} pictures in {args.pictures / name}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    main()
