"""Growth of point-cloud fit / score cost with the number of points per cloud (issue 31).

Data: the package's seeded synthetic generator (``pointcloud.synthetic``, torus shape, defects
bulge / dent / hole) with ``n_points`` = n, 4 training clouds and 5 test clouds (2 normal, 3
defective); generated before the clock starts and passed in memory. ``omniad.fit`` on the
training clouds (20 % held out for the threshold), ``omniad.score`` of the test clouds, every
point scored. Cases: ``pointcloud.btf_fpfh`` (normals + FPFH over every point, mean FPFH of 512
farthest-point patches, coreset memory bank) and ``pointcloud.btf_raw`` (raw centred patch
coordinates: no FPFH). The patch count is fixed (512 centres), so what grows with n is the
neighbour search, normals / FPFH and the per-point interpolation of the patch scores.

    python tools/bench_scale_pointcloud.py [--quick] [--out docs/scale.md --plot docs/scale_pointcloud.png]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_common import Case, main, measured, quiet

CASES = [
    Case("pointcloud.btf_fpfh", 12_500, "points per cloud", {"detector": "pointcloud.btf_fpfh"},
         note="base 12.5k so that 16x is the 200k points per cloud the issue names; the detector's radius is "
              "fixed in the shape's units, so neighbours per point grow with n until max_nn caps them"),
    Case("pointcloud.btf_raw", 12_500, "points per cloud", {"detector": "pointcloud.btf_raw"}),
]
QUICK = [Case(c.name, 500, c.unit, c.payload) for c in CASES]


def clouds(n: int) -> tuple[list[Any], list[Any]]:
    import omniad

    params = {"shapes": ["torus"], "defects": ["bulge", "dent", "hole"], "n_points": n, "n_train": 4,
              "n_test_normal": 2, "n_test_per_defect": 1, "seed": 0}
    subset = omniad.create_dataset("pointcloud.synthetic", params).load()[0]
    return list(subset.train.samples), list(subset.test.samples)


def step(payload: dict[str, Any]) -> dict[str, Any]:
    import omniad

    detector = payload["detector"]
    small_train, small_test = clouds(400)
    warm = omniad.fit(detector, small_train, device="cpu", say=quiet)
    omniad.score(warm, small_test, pictures=0, say=quiet)
    train, test = clouds(payload["n"])
    result: dict[str, Any] = {}
    with measured(result, "fit"):
        model = omniad.fit(detector, train, device="cpu", say=quiet)
    with measured(result, "score"):
        out = omniad.score(model, test, pictures=0, say=quiet)
    result["extra"] = {"scored_points": out.elements.n_rows}
    return result


if __name__ == "__main__":
    main(__file__, "pointcloud", CASES, QUICK, step,
         describe="n = points per cloud (4 fit clouds, 5 scored); fit = `omniad.fit` (80 % fit + 20 % held out), "
                  "score = `omniad.score` of the test clouds.")
