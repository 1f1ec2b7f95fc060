"""Shared by the omniad and anomalib workers of ``bench_vision.py``: data, timing, metrics.

Both workers score the same MPDD images and hand their raw outputs to the same metric code
here, so differences in the tables come from the models, not from the evaluation.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("OMNIAD_SHARED_DATA", REPO / ".." / "shared")).resolve()
MPDD_ROOT = SHARED / "data" / "mpdd"
MOBILENET_WEIGHTS = SHARED / "weights" / "torchvision_mobilenet_v2_imagenet.safetensors"
MODEL_SIZE = (256, 256)


def mpdd_subset() -> Any:
    import omniad

    return next(iter(omniad.create_dataset("vision.mpdd", {"root": str(MPDD_ROOT)}).subsets()))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class Clock:
    """Wall-clock sections: ``with clock("fit"): ...`` adds seconds to ``clock.seconds["fit"]``."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def __call__(self, name: str) -> Any:
        clock = self

        class _Section:
            def __enter__(self) -> None:
                self.t0 = time.perf_counter()

            def __exit__(self, *exc: object) -> None:
                clock.seconds[name] = clock.seconds.get(name, 0.0) + time.perf_counter() - self.t0

        return _Section()


def resize_masks(masks: Sequence[np.ndarray], size: tuple[int, int]) -> list[np.ndarray]:
    """Nearest-neighbour resize, what torchvision's ``Resize`` does to anomalib's masks."""
    import torch
    import torch.nn.functional as F

    out = []
    for m in masks:
        t = torch.from_numpy(np.asarray(m, dtype=np.float32))[None, None]
        out.append((F.interpolate(t, size=size, mode="nearest")[0, 0].numpy() > 0.5).astype(np.uint8))
    return out


def upsample_maps(maps: Sequence[np.ndarray], size: tuple[int, int]) -> list[np.ndarray]:
    import torch
    import torch.nn.functional as F

    return [
        F.interpolate(torch.from_numpy(np.asarray(m, np.float32))[None, None], size=size, mode="bilinear",
                      align_corners=False)[0, 0].numpy()
        for m in maps
    ]


def quality(labels: np.ndarray, scores: np.ndarray, masks: Sequence[np.ndarray] | None,
            maps: Sequence[np.ndarray] | None, prefix: str = "") -> dict[str, float]:
    """Image AUROC on raw scores; pooled pixel AUROC and AUPRO (FPR <= 0.3) when maps exist."""
    from omniad.metrics import roc_auc
    from omniad_vision.metrics.aupro import aupro

    out = {f"{prefix}image_auroc": roc_auc(labels, scores)} if not prefix else {}
    if masks is not None and maps is not None:
        y = np.concatenate([np.asarray(m).reshape(-1) for m in masks]).astype(np.int8)
        s = np.concatenate([np.asarray(m, np.float32).reshape(-1) for m in maps])
        out[f"{prefix}pixel_auroc"] = roc_auc(y, s)
        del y, s
        out[f"{prefix}aupro"] = aupro(masks, maps, 0.3)
    return out


def emit(result: dict[str, Any]) -> None:
    """Workers print one JSON line prefixed so the orchestrator can find it among logs."""
    sys.stdout.write("BENCH_RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()


def batched(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def timed_batches(fn: Callable[[Any], Any], batches: Sequence[Any]) -> tuple[list[Any], float]:
    """Outputs and seconds of ``fn`` over all batches, after one untimed warm-up batch
    (oneDNN builds its kernels on the first call of each shape)."""
    fn(batches[0])
    t0 = time.perf_counter()
    outs = [fn(b) for b in batches]
    return outs, time.perf_counter() - t0


def write_results(out: Path, rows: list[dict[str, Any]], table: str) -> int:
    """results.json + results.md under ``out``, the table on the console; exit status 1 if a row failed."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(rows, indent=1))
    (out / "results.md").write_text(table + "\n")
    print(table)
    return 0 if all("error" not in r for r in rows) else 1
