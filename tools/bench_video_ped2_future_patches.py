"""video.future_frame on UCSD Ped2: the whole frame's PSNR (the paper's score) against the worst patch's error.

    python tools/bench_video_ped2_future_patches.py                 # fits at 64 px, saves the model, scores
    python tools/bench_video_ped2_future_patches.py --model DIR     # reuses a saved video.future_frame model

A cyclist fills a few percent of a Ped2 frame, so averaging the prediction error over the whole frame
might dilute it; this scores one fit's prediction errors both ways: mean squared error of the frame,
the largest (or top-1 %) mean over patches, and the patch error divided by its training mean or
standardised at that place (errors of the training frames, which the model has seen). Micro, macro and
per-video-normalised frame AUROC as in ``bench_video_ped2.py``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from bench_video_ped2 import PED2, evaluate

from omniad import Detector
from omniad.plugins import get_registry
from omniad.scores import Scores


def errors(det, videos) -> list[torch.Tensor]:
    """``(F, 1, S, S)`` squared prediction errors per video (``FutureFrame.predictions``, the detector's own
    scoring path); the first n_context frames take the first, as the detector's scores do."""
    t, out = det.params.n_context, []
    for video in videos:
        e = torch.cat([((pred - target) / 2) ** 2 for pred, target in det.predictions(video)])
        out.append(torch.cat([e[:1].repeat(t, 1, 1, 1), e]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="a saved model (fitted and saved here when absent)")
    parser.add_argument("--frame-size", type=int, default=64)
    args = parser.parse_args()
    dataset = get_registry().get("dataset", "video.ucsd").create({"root": str(PED2), "max_side": 180})
    (subset,) = dataset.subsets()
    if args.model and args.model.exists():
        det = Detector.load(args.model, device="cpu")
    else:
        det = get_registry().get("detector", "video.future_frame").create(
            {"frame_size": args.frame_size, "epochs": 10}, device="cpu", seed=0)
        t0 = time.perf_counter()
        det.fit(subset.train.samples)
        print(f"fit {time.perf_counter() - t0:.0f} s", flush=True)
        if args.model:
            det.save(args.model)
    train, test = errors(det, subset.train.samples), errors(det, subset.test.samples)
    size = det.params.frame_size

    def row(name: str, score) -> None:
        local = [score(e).numpy().astype(np.float64) for e in test]
        result = evaluate(subset.test, Scores(sample=np.array([x.max() for x in local]), local=local))
        print(json.dumps({"score": name, **{k: round(v, 4) for k, v in result.items()}}), flush=True)

    row("frame PSNR", lambda e: e.flatten(1).mean(1))
    seen = torch.cat(train)
    for side in (4, 8, 16):  # patch side in pixels of a 64-px frame
        k = max(1, size * side // 64)

        def pooled(e: torch.Tensor, k: int = k) -> torch.Tensor:
            return F.avg_pool2d(e, k, stride=max(1, k // 2))

        ref = pooled(seen)
        mean, std = ref.mean(0), ref.std(0) + 1e-8
        top = max(1, pooled(seen[:1]).numel() // 100)
        row(f"{side}-px patch, max", lambda e, p=pooled: p(e).flatten(1).max(1).values)
        row(f"{side}-px patch, top 1%", lambda e, p=pooled, n=top: p(e).flatten(1).topk(n).values.mean(1))
        row(f"{side}-px patch / training mean, max", lambda e, p=pooled, m=mean: (p(e) / (m + 1e-8)).flatten(1).max(1).values)
        row(f"{side}-px patch standardised, max", lambda e, p=pooled, m=mean, s=std: ((p(e) - m) / s).flatten(1).max(1).values)
    worst = torch.cat([F.avg_pool2d(e, max(1, size // 16)).flatten(1).argmax(1) for e in test])
    count, place = torch.bincount(worst).max(0)
    print(f"the worst patch (1/16 of the side) is at place {int(place)} in {int(count)} of {len(worst)} test frames")


if __name__ == "__main__":
    main()
