"""One-class frame detectors on synthetic videos: frame AUROC (micro, macro), per anomaly kind, time per frame.

    python tools/bench_video_frames.py                          # moving-disc set, every frame detector
    python tools/bench_video_frames.py --data synthetic         # video.synthetic (when registered)
    python tools/bench_video_frames.py --detectors video.frame_knn --seeds 0 1 2

Moving-disc set (``--data discs``, built here so the benchmark runs before and without
``video.synthetic``): 32x32 frames, a bright disc moving right at 1 px/frame on a noisy
background; 4 normal training videos of 120 frames; per kind 4 test videos of 120 frames
whose frames 40..79 move 3x faster ('speed') or backwards ('direction'), and 2 normal test
videos. Micro = ``core.local_auroc`` (all frames pooled); macro = ``video.frame_auroc_macro``
(mean over videos that contain both classes) when registered. Numbers are means over seeds.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import omniad
from omniad.data import Split, Subset
from omniad.plugins import get_registry
from omniad.scores import Scores
from omniad_video.samples import FrameVideo

DETECTORS = {
    "video.frame_knn": {},
    "video.frame_gaussian": {},
    "video.future_frame": {"frame_size": 32, "epochs": 8, "n_context": 4},
}
SIDE = 32


def disc_video(n: int, rng: np.random.Generator, kind: str | None, span=(40, 80)) -> tuple[FrameVideo, np.ndarray]:
    step = np.ones(n)
    target = np.zeros(n, dtype=np.int8)
    if kind is not None:
        step[span[0]:span[1]] = 3.0 if kind == "speed" else -1.0
        target[span[0]:span[1]] = 1
    x = (rng.uniform(0, SIDE) + np.concatenate([[0.0], np.cumsum(step[1:])])) % SIDE
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    frames = np.empty((n, SIDE, SIDE), dtype=np.uint8)
    for i in range(n):
        dx = np.minimum(np.abs(xx - x[i]), SIDE - np.abs(xx - x[i]))
        disc = (dx**2 + (yy - SIDE / 2) ** 2) <= 25
        frames[i] = np.clip(40 + 160 * disc + rng.normal(0, 8, (SIDE, SIDE)), 0, 255).astype(np.uint8)
    return FrameVideo(frames=frames, name=f"{kind or 'normal'}"), target


def disc_subset(seed: int) -> Subset:
    rng = np.random.default_rng(seed)
    train = [disc_video(120, rng, None)[0] for _ in range(4)]
    videos, targets, kinds = [], [], []
    for kind in ("speed", "direction"):
        for _ in range(4):
            v, t = disc_video(120, rng, kind)
            videos.append(v), targets.append(t), kinds.append(kind)
    for _ in range(2):
        v, t = disc_video(120, rng, None)
        videos.append(v), targets.append(t), kinds.append("normal")
    test = Split(samples=videos, targets=targets, ids=[f"{k}{i}" for i, k in enumerate(kinds)], meta={"kinds": kinds})
    return Subset(name=f"discs{seed}", train=Split(samples=train), test=test.with_labels_from_targets())


def subsets(data: str, seed: int) -> list[Subset]:
    if data == "discs":
        return [disc_subset(seed)]
    dataset = get_registry().get("dataset", "video.synthetic").create({"seed": seed})
    return list(dataset.subsets())


def kinds_of(subset: Subset) -> list[str]:
    kinds = subset.test.meta.get("kinds") if subset.test.meta else None
    if kinds is None:
        kinds = [str(v.meta.get("kind", "anomalous" if t.any() else "normal"))
                 for v, t in zip(subset.test.samples, subset.test.targets, strict=True)]
    return list(kinds)


def metrics_of(truth: Split, scores: Scores) -> dict[str, float]:
    out = {"micro": float(omniad.create_metric("core.local_auroc")(truth, scores))}
    if ("metric", "video.frame_auroc_macro") in get_registry():
        out["macro"] = float(omniad.create_metric("video.frame_auroc_macro")(truth, scores))
    return out


def run(detector_id: str, params: dict, subset: Subset, seed: int) -> dict[str, float]:
    det = get_registry().get("detector", detector_id).create(params, seed=seed)
    n_train = sum(len(v.frames) for v in subset.train.samples)
    n_test = sum(len(v.frames) for v in subset.test.samples)
    t0 = time.perf_counter()
    det.fit(subset.train.samples)
    t1 = time.perf_counter()
    scores = det.score(subset.test.samples)
    t2 = time.perf_counter()
    row = {**metrics_of(subset.test, scores), "fit_ms_per_frame": 1e3 * (t1 - t0) / n_train,
           "score_ms_per_frame": 1e3 * (t2 - t1) / n_test}
    kinds = kinds_of(subset)
    for kind in sorted(set(kinds) - {"normal"}):
        keep = [i for i, k in enumerate(kinds) if k in (kind, "normal")]
        truth = Split(samples=[subset.test.samples[i] for i in keep], targets=[subset.test.targets[i] for i in keep])
        part = Scores(sample=scores.sample[keep], local=[scores.local[i] for i in keep])
        row[f"{kind}_micro"] = metrics_of(truth, part)["micro"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=("discs", "synthetic"), default="discs")
    parser.add_argument("--detectors", nargs="*", default=list(DETECTORS))
    parser.add_argument("--features", default=None, help="override features, e.g. vision:mobilenetv2_100")
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    args = parser.parse_args()
    for detector_id in args.detectors:
        params = dict(DETECTORS.get(detector_id, {}))
        if args.features and detector_id != "video.future_frame":
            params["features"] = args.features
        rows = [run(detector_id, params, s, seed) for seed in args.seeds for s in subsets(args.data, seed)]
        keys = list(rows[0])
        mean = {k: float(np.mean([r[k] for r in rows if k in r])) for k in keys}
        print(f"{detector_id} {params}: " + ", ".join(f"{k}={v:.3f}" for k, v in mean.items()), flush=True)


if __name__ == "__main__":
    main()
