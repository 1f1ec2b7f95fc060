"""Point cloud detectors on the synthetic benchmark: object AUROC, point AUROC and AU-PRO per defect kind.

    python tools/bench_pointcloud.py                      # every detector, default benchmark set
    python tools/bench_pointcloud.py --detectors pointcloud.btf_fpfh --seeds 0 1 2

The benchmark set is ``pointcloud.synthetic`` with its defaults (sphere, torus, box; 2,048
points; 8 training clouds; 4 normal and 3 defective test clouds per defect kind). Each defect
kind is scored against the normal test clouds of the same shape; numbers are means over
shapes and seeds.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import omniad
from omniad.data import Split

DETECTORS = ("pointcloud.btf_fpfh", "pointcloud.btf_raw", "pointcloud.btf", "pointcloud.offsets")
KINDS = ("bulge", "dent", "crack", "hole", "missing")


def per_kind(subset, scores) -> dict[str, dict[str, float]]:
    from omniad.scores import Scores

    kinds = subset.test.meta["kinds"]
    out = {}
    for kind in KINDS:
        keep = [i for i, k in enumerate(kinds) if k in ("good", kind)]
        if not any(kinds[i] == kind for i in keep):
            continue
        truth = Split(samples=[subset.test.samples[i] for i in keep], targets=[subset.test.targets[i] for i in keep],
                      ids=[subset.test.ids[i] for i in keep]).with_labels_from_targets()
        s = Scores(sample=scores.sample[keep], local=[scores.local[i] for i in keep])
        out[kind] = {m: float(omniad.create_metric(m)(truth, s)) for m in ("core.auroc", "core.local_auroc", "pointcloud.aupro")}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detectors", nargs="*", default=list(DETECTORS))
    ap.add_argument("--seeds", nargs="*", type=int, default=[0])
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    for det_id in args.detectors:
        rows: dict[str, list[list[float]]] = {}
        t0 = time.perf_counter()
        for seed in args.seeds:
            for subset in omniad.create_dataset("pointcloud.synthetic", {"seed": seed}).subsets():
                det = omniad.create_detector(det_id, device=args.device, seed=seed).fit(subset.train.samples)
                for kind, vals in per_kind(subset, det.score(subset.test.samples)).items():
                    rows.setdefault(kind, []).append(list(vals.values()))
        took = time.perf_counter() - t0
        print(f"\n{det_id}  ({took:.1f} s, seeds {args.seeds}, device {args.device})")
        print("| defect | object AUROC | point AUROC | AU-PRO |\n|---|---:|---:|---:|")
        means = []
        for kind, vals in rows.items():
            m = np.mean(vals, axis=0)
            means.append(m)
            print(f"| {kind} | {m[0]:.3f} | {m[1]:.3f} | {m[2]:.3f} |")
        m = np.mean(means, axis=0)
        print(f"| **mean** | **{m[0]:.3f}** | **{m[1]:.3f}** | **{m[2]:.3f}** |")


if __name__ == "__main__":
    main()
