"""``python -m omniad_pointcloud.generate DIR``: write synthetic clouds with defects as files, to try omniad on.

No real 3D anomaly data can be downloaded here, so the "your own data" commands of the
README run on files this writes: the synthetic benchmark (``pointcloud.synthetic``) in one
of the loaders' layouts (``datasets/generator.write_benchmark``). The default ``folder``
layout gives, per shape, ``train/good/NNN.ply`` (normal clouds), ``test/<kind>/NNN.{ply,pcd,npy}``
and ``ground_truth/<kind>/NNN.txt`` (one 0/1 label per point)::

    python -m omniad_pointcloud.generate clouds --shapes sphere
    omniad fit pointcloud.btf_fpfh clouds/sphere/train/good -o sphere-model
    omniad score sphere-model clouds/sphere/test/bulge/000.ply -o out
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from omniad.errors import OmniadError


def main(argv: list[str] | None = None) -> int:
    from omniad_pointcloud.datasets.generator import LAYOUTS, write_benchmark
    from omniad_pointcloud.datasets.params import SyntheticParams

    defaults = SyntheticParams()
    parser = argparse.ArgumentParser(prog="python -m omniad_pointcloud.generate", description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path, help="folder to write (created; existing files of the same name replaced)")
    parser.add_argument("--layout", choices=LAYOUTS, default="folder", help="folder layout (default: folder)")
    parser.add_argument("--shapes", nargs="+", default=list(defaults.shapes), help="one folder per shape")
    parser.add_argument("--defects", nargs="+", default=list(defaults.defects), help="defect kinds in test/")
    parser.add_argument("--n-points", type=int, default=defaults.n_points, help="points per cloud")
    parser.add_argument("--n-train", type=int, default=defaults.n_train, help="normal training clouds per shape")
    parser.add_argument("--n-test-normal", type=int, default=defaults.n_test_normal, help="normal test clouds")
    parser.add_argument("--n-test-per-defect", type=int, default=defaults.n_test_per_defect,
                        help="test clouds per defect kind")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    params = {"shapes": args.shapes, "defects": args.defects, "n_points": args.n_points, "n_train": args.n_train,
              "n_test_normal": args.n_test_normal, "n_test_per_defect": args.n_test_per_defect, "seed": args.seed}
    try:
        from omniad.plugins import get_registry

        checked = get_registry().get("dataset", "pointcloud.synthetic").validate_params(params)  # ConfigError, one line
        root = write_benchmark(args.root, args.layout, SyntheticParams(**checked.model_dump()))
    except OmniadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    written = sum(1 for f in root.rglob("*") if f.is_file())
    print(f"wrote {written} files under {root} ({args.layout} layout, shapes: {', '.join(args.shapes)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
