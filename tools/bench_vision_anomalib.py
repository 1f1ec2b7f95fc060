"""anomalib 2.7 side of ``bench_vision.py``: run with the anomalib bench venv's Python.

    /tmp/bench-anomalib/bin/python tools/bench_vision_anomalib.py --model patchcore

Uses anomalib's own torch model, pre-processor (Resize 256 antialiased + ImageNet
normalisation) and image reader, with the MobileNetV2 weights of ../shared remapped from
torchvision to timm keys (anomalib's ``pre_trained=True`` needs the hub). Fit = model
construction + training-mode forward passes (the memory bank) + coreset / Gaussian fit;
inference = the eval-mode forward on pre-processed batches ("model only", no Lightning).
Scores are raw (anomalib's post-processor normalises and clamps them, which creates ties).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_vision_common import (
    MOBILENET_WEIGHTS,
    MODEL_SIZE,
    Clock,
    batched,
    emit,
    mpdd_subset,
    peak_rss_mb,
    quality,
    resize_masks,
    timed_batches,
    upsample_maps,
)

LAYERS = ["blocks.2", "blocks.4"]


def load_remapped(features_model: torch.nn.Module) -> None:
    """Put the torchvision MobileNetV2 weights into anomalib's timm features_only model."""
    from omniad_vision.backbones.weights import load_pretrained

    full, _ = load_pretrained("mobilenetv2_100", str(MOBILENET_WEIGHTS), "bench")
    result = features_model.load_state_dict(full.state_dict(), strict=False)
    if result.missing_keys:
        raise SystemExit(f"weights did not cover anomalib's backbone: {result.missing_keys[:5]}")


def build(model_name: str, n_features: int) -> tuple[torch.nn.Module, torch.nn.Module]:
    if model_name == "patchcore":
        from anomalib.models import Patchcore

        lm = Patchcore(backbone="mobilenetv2_100", layers=LAYERS, pre_trained=False,
                       coreset_sampling_ratio=0.1, num_neighbors=9)
    else:
        from anomalib.models import Padim

        lm = Padim(backbone="mobilenetv2_100", layers=LAYERS, pre_trained=False, n_features=n_features)
    load_remapped(lm.model.feature_extractor.feature_extractor)
    return lm, lm.model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["patchcore", "padim"], required=True)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--n-features", type=int, default=128)
    args = ap.parse_args()

    from anomalib.data.utils import read_image
    from anomalib.models import Padim, Patchcore  # noqa: F401  (imports are not fitting)

    from omniad_vision.backbones.weights import load_pretrained  # noqa: F401

    subset = mpdd_subset()
    clock = Clock()
    torch.manual_seed(0)
    with clock("fit_s"):
        lm, model = build(args.model, args.n_features)
        transform = lm.pre_processor.transform
        train = [transform(read_image(p, as_tensor=True)) for p in subset.train.samples.paths]
        model.train()
        with clock("features_s"), torch.no_grad():
            for batch in batched(train, args.batch_size):
                model(torch.stack(list(batch)))
        with clock("coreset_s"):
            if args.model == "patchcore":
                model.subsample_embedding(0.1)
            else:
                model.fit()
    test = [transform(read_image(p, as_tensor=True)) for p in subset.test.samples.paths]
    model.eval()
    with torch.no_grad():
        outs, seconds = timed_batches(lambda b: model(torch.stack(list(b))), batched(test, args.batch_size))
    rss = peak_rss_mb()
    scores = torch.cat([o.pred_score.reshape(-1) for o in outs]).double().numpy()
    maps256 = [m for o in outs for m in o.anomaly_map.reshape(-1, *MODEL_SIZE).numpy()]
    masks = [np.asarray(subset.test.targets[i]) for i in range(len(subset.test))]
    masks256 = resize_masks(masks, MODEL_SIZE)
    result = {
        "system": "anomalib 2.7", "model": args.model, **clock.seconds,
        "images_per_s": len(test) / seconds, "peak_rss_mb": rss,
        **quality(subset.test.labels, scores, masks, upsample_maps(maps256, masks[0].shape)),
        **quality(subset.test.labels, scores, masks256, maps256, prefix="at256_"),
    }
    from anomalib.metrics.aupro import _AUPRO

    metric = _AUPRO(fpr_limit=0.3)
    metric.update(torch.from_numpy(np.stack(maps256)), torch.from_numpy(np.stack(masks256)))
    result["at256_aupro_anomalib_impl"] = float(metric.compute())
    emit(result)


if __name__ == "__main__":
    main()
