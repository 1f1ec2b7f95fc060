"""Pretrain the TimeRCD-style detector on synthetic series and write a local .safetensors file.

Generates ``--series`` random normal windows (``synthetic.base_signal``: seasonal mixtures,
square waves, trends, AR noise), corrupts a share of them afresh every epoch with the
labelled anomaly injector, and trains the per-timestep classifier with early stopping on a
fixed, held-out corrupted set. The file records the architecture, so the detector can
check that its parameters match before loading::

    .venv/bin/python tools/pretrain_timercd.py --out ~/.cache/omniad/timercd.safetensors \\
        [--series 20000 --epochs 30 --window 256 --patch 8 --d-model 64 --n-heads 4 --n-layers 3]

    omniad.create_detector("timeseries.timercd", {"weights": "~/.cache/omniad/timercd.safetensors",
                                                   "epochs": 0})   # zero-shot; epochs > 0 fine-tunes

Nothing is downloaded; the corpus is generated from ``--seed``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--series", type=int, default=20000, help="synthetic normal windows in the corpus")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--window", type=int, default=256)
    ap.add_argument("--patch", type=int, default=8)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--n-heads", type=int, default=4)
    ap.add_argument("--n-layers", type=int, default=3)
    ap.add_argument("--dim-feedforward", type=int, default=128)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--patience", type=int, default=4)
    ap.add_argument("--anomaly-rate", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()

    import torch

    from omniad.device import resolve_device
    from omniad_timeseries.detectors.neural.params import TimeRCDParams
    from omniad_timeseries.detectors.neural.synthetic import base_signal
    from omniad_timeseries.detectors.neural.timercd import (
        ARCHITECTURE,
        LabelledWindows,
        TimeRCDNet,
        save_weights,
        train_net,
    )

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    params = TimeRCDParams(  # validates the architecture the same way the detector will
        window=args.window, patch=args.patch, d_model=args.d_model, n_heads=args.n_heads,
        n_layers=args.n_layers, dim_feedforward=args.dim_feedforward, dropout=args.dropout,
    )
    device = resolve_device(args.device)
    rng = np.random.default_rng(args.seed)
    corpus = np.stack([base_signal(rng, args.window) for _ in range(args.series)]).astype(np.float32)
    n_val = max(1, args.series // 10)
    common = {"copies": 1, "anomaly_rate": args.anomaly_rate, "device": device}
    train = LabelledWindows(corpus[n_val:], rng, **common)
    val = LabelledWindows(corpus[:n_val], np.random.default_rng(args.seed + 1), fixed=True, **common)
    net = TimeRCDNet(params.window, params.patch, params.d_model, params.n_heads, params.n_layers,
                     params.dim_feedforward, params.dropout).to(device)
    start = time.perf_counter()
    history = train_net(net, train, val, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                        patience=args.patience, where="pretrain_timercd")
    elapsed = time.perf_counter() - start
    architecture = {k: getattr(params, k) for k in ARCHITECTURE}
    info = {"series": args.series, "epochs_run": len(history), "val_bce": min(history),
            "seed": args.seed, "seconds": round(elapsed, 1)}
    path = save_weights(net, args.out.expanduser(), architecture, info)
    print(f"wrote {path}: {len(history)} epochs in {elapsed:.0f}s, best validation BCE {min(history):.4f}")


if __name__ == "__main__":
    main()
