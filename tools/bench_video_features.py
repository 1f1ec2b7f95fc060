"""MIL and RTFM on video.synthetic_features: frame AUROC micro/macro, AP, detection delay over seeds.

Synthetic numbers only show that the weak-label training works; they are not a UCF-Crime result.
Usage: python tools/bench_video_features.py [--seeds 0 1 2] [--iterations 300]
"""

from __future__ import annotations

import argparse

import numpy as np

import omniad

DATA = {"n_train_normal": 16, "n_train_anomalous": 16, "n_test_normal": 8, "n_test_anomalous": 8, "dim": 64}
METRICS = ("core.local_auroc", "video.frame_auroc_macro", "core.local_aupr", "video.detection_delay")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--iterations", type=int, default=300)
    args = ap.parse_args()
    detectors = {
        "video.mil": {"iterations": args.iterations, "batch_size": 8, "optimizer": "adam", "lr": 1e-3},
        "video.rtfm": {"iterations": args.iterations, "batch_size": 8},
    }
    for did, params in detectors.items():
        rows = []
        for seed in args.seeds:
            sub = omniad.create_dataset("video.synthetic_features", {**DATA, "seed": seed}).load()[0]
            det = omniad.create_detector(did, params, seed=seed).fit(sub.train.samples)
            s = det.score(sub.test.samples)
            out = [omniad.create_metric(m)(sub.test, s) for m in METRICS]
            rows.append([out[0], out[1]["auroc_macro"], out[2], out[3]["delay_frames"], out[3]["detected"]])
        mean, std = np.mean(rows, 0), np.std(rows, 0)
        cols = ("auroc_micro", "auroc_macro", "ap", "delay_frames", "detected")
        print(did, params, " ".join(f"{c}={m:.3f}±{d:.3f}" for c, m, d in zip(cols, mean, std, strict=True)))


if __name__ == "__main__":
    main()
