"""NAB loads every file of the corpus as NAB scores it: file order, even where a timestamp goes backwards."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omniad.errors import DataError
from omniad.plugins import get_registry

LENGTH, STEP_BACK_ROW, STEP_BACK = 240, 100, 12  # at row 100 the clock goes back 12 steps (1 hour)
FILE = "realKnownCause/machine_temperature_system_failure.csv"


def _stamps() -> pd.DatetimeIndex:
    steps = np.arange(LENGTH)
    steps[STEP_BACK_ROW:] -= STEP_BACK  # rows 100..111 repeat the times of rows 88..99
    return pd.Timestamp("2013-12-02 21:15") + pd.to_timedelta(steps * 5, unit="min")


def _write(root: Path) -> tuple[Path, np.ndarray]:
    """A NAB-layout folder whose one series steps back in time, with two label windows."""
    stamps = _stamps()
    values = np.sin(np.arange(LENGTH) / 7.0)
    folder = root / "data" / "realKnownCause"
    folder.mkdir(parents=True)
    pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%d %H:%M:%S"), "value": values}).to_csv(
        root / "data" / FILE, index=False)
    base = pd.Timestamp("2013-12-02 21:15")
    at = [str(base + pd.Timedelta(minutes=5 * k)) for k in (90, 95, 138, 157)]
    (root / "labels").mkdir()
    (root / "labels" / "combined_windows.json").write_text(json.dumps({FILE: [at[:2], at[2:]]}))
    return root, values


def _load(dataset_id: str, **params: object) -> list:
    return list(get_registry().get("dataset", dataset_id).create(params).subsets())


def test_nab_keeps_file_order_by_default_and_labels_follow_the_rows(tmp_path: Path) -> None:
    root, values = _write(tmp_path / "nab")
    (subset,) = _load("timeseries.nab", root=str(root), train="fraction", train_fraction=0.3)
    np.testing.assert_allclose(subset.test.samples[0], values)  # every row, in file order
    assert len(subset.train.samples[0]) == int(0.3 * LENGTH)
    # a label comes from its row's timestamp: window 1 covers rows 90..95 and, after the clock
    # went back, rows 102..107 with the same times; window 2 covers rows 150..169
    expected = [*range(90, 96), *range(102, 108), *range(150, 170)]
    assert np.flatnonzero(subset.test.targets[0]).tolist() == expected
    assert subset.meta["timestamps_backwards"] == 1 and subset.meta["order"] == "ignore"


def test_strict_order_stays_available_and_is_the_table_default(tmp_path: Path) -> None:
    root, values = _write(tmp_path / "nab")
    with pytest.raises(DataError, match=f"timestamps go backwards at row {STEP_BACK_ROW}"):
        _load("timeseries.nab", root=str(root), order="check")
    (ordered,) = _load("timeseries.nab", root=str(root), order="sort")
    np.testing.assert_allclose(ordered.test.samples[0], values[np.argsort(_stamps().to_numpy(), kind="stable")])
    table = tmp_path / "plant.csv"
    frame = pd.read_csv(root / "data" / FILE)
    frame["label"] = 0
    frame.loc[150:169, "label"] = 1
    frame.to_csv(table, index=False)
    with pytest.raises(DataError, match="timestamps go backwards"):  # user tables: strict by default
        _load("timeseries.table", path=str(table), timestamp_column="timestamp")
