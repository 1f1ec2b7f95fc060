"""Scoring throughput on your own data: `omniad score` (CLI, a fresh process) beside the Python API loop.

For each modality a model is fitted once on a real file from ../shared (point clouds: files
the package's generator writes), then the same second source is scored three ways:

- CLI: ``omniad score MODEL SOURCE -o OUT --pictures 0`` in a fresh process, wall time
  (interpreter start, imports, loading the model, reading, scoring, writing the tables);
- API, cold: ``omniad.score(model_dir, source)`` once in this process (model load + read + score);
- API, warm: ``omniad.score(model, source)`` again with the loaded model (read + score + tables).

Elements/s counts what the detector scores per element (timesteps, lines, pixels, points,
frames; samples for text and tabular). Pictures are off in all three, so the numbers are about
scoring and the tables, not matplotlib.

    python tools/bench_own_data.py [--only timeseries logs ...] [--repeats 3]
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("OMNIAD_SHARED_DATA", ROOT.parent / "shared"))


@dataclass
class Case:
    modality: str
    package: str
    detector: str
    params: dict[str, object]
    prepare: Callable[[Path], tuple[str, str]]  # -> (fit source, score source)


def _tabular(work: Path) -> tuple[str, str]:
    rng = np.random.default_rng(0)
    for name, n in (("fit", 5000), ("score", 20000)):
        with (work / f"{name}.csv").open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow([f"f{i}" for i in range(16)])
            w.writerows(rng.normal(size=(n, 16)).round(6).tolist())
    return str(work / "fit.csv"), str(work / "score.csv")


def _timeseries(work: Path) -> tuple[str, str]:
    folder = SHARED / "data" / "nab" / "data" / "realAWSCloudwatch"
    files = sorted(folder.glob("*.csv"))
    return str(files[0]), str(files[1])


def _logs(work: Path) -> tuple[str, str]:
    folder = SHARED / "data" / "loghub"
    return str(next(folder.rglob("HDFS_2k.log"))), str(next(folder.rglob("HDFS_2k.log")))


def _vision(work: Path) -> tuple[str, str]:
    root = SHARED / "data" / "mpdd" / "metal_plate"
    good, test = work / "good", work / "test"
    good.mkdir()
    test.mkdir()
    for p in sorted((root / "train" / "good").glob("*"))[:20]:
        (good / p.name).symlink_to(p)
    for p in sorted((root / "test" / "defect").glob("*"))[:20]:
        (test / p.name).symlink_to(p)
    return str(good), str(test)


def _text(work: Path) -> tuple[str, str]:
    with (SHARED / "data" / "bbc_news" / "bbc_news.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for name, chosen in (("fit", [r for r in rows if r["category"] == "sports"][:100]), ("score", rows[:200])):
        with (work / f"{name}.csv").open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["text"])
            w.writerows([[r["text"]] for r in chosen])
    return str(work / "fit.csv"), str(work / "score.csv")


def _pointcloud(work: Path) -> tuple[str, str]:
    subprocess.run([sys.executable, "-m", "omniad_pointcloud.generate", str(work / "clouds"), "--shapes", "sphere"],
                   check=True, capture_output=True)
    return str(work / "clouds" / "sphere" / "train" / "good"), str(work / "clouds" / "sphere" / "test")


def _video(work: Path) -> tuple[str, str]:
    root = SHARED / "data" / "ucsd_ped2"
    train = sorted((root / "training" / "frames").iterdir())[0]
    test = sorted((root / "testing" / "frames").iterdir())[0]
    return str(train), str(test)


CASES = [
    Case("tabular", "omniad", "core.knn", {}, _tabular),
    Case("timeseries", "omniad_timeseries", "timeseries.poly", {}, _timeseries),
    Case("logs", "omniad_logs", "logs.pca", {}, _logs),
    Case("vision", "omniad_vision", "vision.patchcore", {
        "backbone": "mobilenetv2_100",
        "weights": str(SHARED / "weights" / "torchvision_mobilenet_v2_imagenet.safetensors")}, _vision),
    Case("text", "omniad_text", "text.knn", {}, _text),
    Case("pointcloud", "omniad_pointcloud", "pointcloud.btf_fpfh", {}, _pointcloud),
    Case("video", "omniad_video", "video.frame_knn", {}, _video),
]


def _elements(results: object) -> int:
    """Scored elements: element rows, pixels of the maps, or samples where there are no elements."""
    n_rows = results.elements.n_rows  # type: ignore[attr-defined]
    if n_rows:
        return int(n_rows)
    counts = results.samples.columns.get("n_elements")  # type: ignore[attr-defined]
    if counts and all(c is not None for c in counts):
        return int(sum(counts))
    return int(results.samples.n_rows)  # type: ignore[attr-defined]


def run(case: Case, repeats: int) -> dict[str, object] | None:
    import omniad

    if importlib.util.find_spec(case.package) is None:
        print(f"{case.modality}: {case.package} is not installed, skipped", file=sys.stderr)
        return None
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        try:
            fit_source, score_source = case.prepare(work)
        except (OSError, StopIteration, IndexError, subprocess.CalledProcessError) as exc:
            print(f"{case.modality}: data not available ({exc}), skipped", file=sys.stderr)
            return None
        quiet = lambda _msg: None  # noqa: E731
        model = omniad.fit(case.detector, fit_source, params=dict(case.params), device="cpu", say=quiet)
        model.save(work / "model")
        cli = []
        for i in range(repeats):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "omniad", "score", str(work / "model"), score_source,
                            "-o", str(work / f"cli-{i}"), "--pictures", "0", "--device", "cpu"],
                           check=True, capture_output=True)
            cli.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        results = omniad.score(str(work / "model"), score_source, pictures=0, device="cpu", say=quiet)
        cold = time.perf_counter() - t0
        loaded = omniad.load_detector(str(work / "model"), device="cpu")
        warm = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            results = omniad.score(loaded, score_source, pictures=0, say=quiet)
            warm.append(time.perf_counter() - t0)
        n = _elements(results)
        return {"modality": case.modality, "detector": case.detector, "samples": results.samples.n_rows,
                "elements": n, "cli_s": min(cli), "api_cold_s": cold, "api_warm_s": min(warm)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="modalities to run")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for case in CASES:
        if args.only and case.modality not in args.only:
            continue
        row = run(case, args.repeats)
        if row is not None:
            rows.append(row)
            print(row, file=sys.stderr)
    print("| modality | detector | samples | elements | CLI s (elements/s) | API cold s (elements/s) | API warm s (elements/s) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        cells = [f"{r[k]:.2f} ({r['elements'] / r[k]:,.0f})" for k in ("cli_s", "api_cold_s", "api_warm_s")]  # type: ignore[operator]
        print(f"| {r['modality']} | `{r['detector']}` | {r['samples']} | {r['elements']:,} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
