"""Real-data smoke test: the metrics on NAB series from ``../shared`` (skipped when absent).

Checks the whole chain on real labels (wide NAB windows) and real-looking scores: the
auto window, the values against TSB-AD where it is importable, and that PA-F1 flatters
random scores while VUS-PR does not.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omniad.data import Split
from omniad.plugins import get_registry
from omniad.scores import Scores
from omniad_timeseries.metrics import vus
from omniad_timeseries.periodicity import find_length_rank

REPO = Path(__file__).resolve().parents[3]
NAB = Path(os.environ.get("OMNIAD_SHARED_DATA", REPO.parent / "shared")) / "data" / "nab"
SERIES = ["realTraffic/speed_7578.csv", "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv"]


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    if not (NAB / "data" / name).exists():
        pytest.skip(f"NAB data not found under {NAB}; set OMNIAD_SHARED_DATA to the shared folder")
    frame = pd.read_csv(NAB / "data" / name, parse_dates=["timestamp"])
    windows = json.loads((NAB / "labels" / "combined_windows.json").read_text())[name]
    labels = np.zeros(len(frame), dtype=np.int8)
    for start, end in windows:
        labels[((frame.timestamp >= pd.Timestamp(start)) & (frame.timestamp <= pd.Timestamp(end))).to_numpy()] = 1
    return frame.value.to_numpy(dtype=np.float64), labels


def deviation_scores(x: np.ndarray, window: int) -> np.ndarray:
    """Distance to a centred rolling median: a simple, real detector output."""
    median = pd.Series(x).rolling(window, center=True, min_periods=1).median().to_numpy()
    return np.abs(x - median)


@pytest.mark.parametrize("name", SERIES)
def test_metrics_on_nab(name: str) -> None:
    x, y = load(name)
    assert 0 < y.sum() < y.size
    s = deviation_scores(x, 25)
    truth = Split(samples=[x], labels=np.array([1]), targets=[y])
    registry = get_registry()
    got = registry.get("metric", "timeseries.vus_pr").create({})(truth, Scores(sample=np.ones(1), local=[s]))
    window = find_length_rank(x, rank=1)
    assert got["window"] == window
    assert got["vus_pr"] == pytest.approx(vus(y, s, window)["vus_pr"])

    random = np.random.default_rng(0).random(y.size)
    on_random = Scores(sample=np.ones(1), local=[random])
    pa = registry.get("metric", "timeseries.pa_f1").create({})(truth, on_random)["f1"]
    honest = registry.get("metric", "timeseries.vus_pr").create({})(truth, on_random)["vus_pr"]
    assert pa > 0.8  # PA-F1 flatters random scores on NAB's wide windows; measured 0.876 and 0.969
    assert honest < 0.25  # measured 0.146 and 0.104


def test_vus_equals_tsbad_on_nab_series() -> None:
    x, y = load(SERIES[0])
    s = deviation_scores(x, 25)
    tsbad_path = os.environ.get("OMNIAD_TSBAD_PATH", "/tmp/ref/tsbad")
    if tsbad_path not in sys.path:
        sys.path.insert(0, tsbad_path)
    tsbad = pytest.importorskip("TSB_AD.evaluation.basic_metrics", reason="TSB-AD not importable")
    window = find_length_rank(x, rank=1)
    *_, ref_roc, ref_pr = tsbad.generate_curve(y.astype(int), s, window, "opt", 250)
    got = vus(y, s, window)
    assert (got["vus_roc"], got["vus_pr"]) == pytest.approx((ref_roc, ref_pr), abs=1e-6)
