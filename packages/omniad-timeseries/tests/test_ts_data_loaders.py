"""Time-series dataset loaders: every layout on tiny generated files, NAB on the real data when present."""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from omniad.errors import ConfigError, DataError
from omniad.plugins import get_registry
from omniad.scores import Scores
from omniad.testing import DatasetConformance
from omniad_timeseries.datasets import bundled
from omniad_timeseries.datasets.bundled import package_data_dir
from omniad_timeseries.datasets.reading import shared_data_root
from omniad_timeseries.datasets.splits import train_length, tsbad_train_length
from omniad_timeseries.datasets.synthetic import Synthetic

LENGTH = 240


def series(seed: int, channels: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(LENGTH)
    x = np.stack([np.sin(2 * np.pi * t / 24 + c) for c in range(channels)], 1) + rng.normal(0, 0.05, (LENGTH, channels))
    return x


def labels(start: int, end: int) -> np.ndarray:
    y = np.zeros(LENGTH, dtype=int)
    y[start:end] = 1
    return y


def write_nab(root: Path) -> Path:
    stamps = pd.date_range("2020-01-01", periods=LENGTH, freq="5min")
    windows = {}
    for category, name, seed, window in [
        ("realA", "one.csv", 0, (150, 170)),
        ("realA", "two.csv", 1, (60, 80)),
        ("artificialNoAnomaly", "flat.csv", 2, None),
    ]:
        folder = root / "data" / category
        folder.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"timestamp": stamps, "value": series(seed)[:, 0]}).to_csv(folder / name, index=False)
        windows[f"{category}/{name}"] = (
            [[str(stamps[window[0]]), str(stamps[window[1] - 1])]] if window else []
        )
    (root / "labels").mkdir(parents=True, exist_ok=True)
    (root / "labels" / "combined_windows.json").write_text(json.dumps(windows))
    return root


def write_tsbad(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i, (tr, first, channels) in enumerate([(100, 150, 1), (120, 200, 3)], start=1):
        frame = pd.DataFrame(series(i, channels), columns=[f"c{j}" for j in range(channels)])
        frame["Label"] = labels(first, first + 10)
        frame.to_csv(root / f"00{i}_Toy_id_{i}_Test_tr_{tr}_1st_{first}.csv", index=False)
    return root


def write_ucr(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    np.savetxt(root / "001_UCR_Anomaly_toy_100_150_160.txt", series(3)[:, 0])
    return root


def write_smd(root: Path) -> Path:
    for part in ("train", "test", "test_label"):
        (root / part).mkdir(parents=True, exist_ok=True)
    for i, machine in enumerate(["machine-1-1", "machine-1-2"]):
        np.savetxt(root / "train" / f"{machine}.txt", series(10 + i, 4), delimiter=",")
        np.savetxt(root / "test" / f"{machine}.txt", series(20 + i, 4), delimiter=",")
        np.savetxt(root / "test_label" / f"{machine}.txt", labels(100, 120), fmt="%d")
    return root


def write_table(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(series(4, 2), columns=["a", "b"])
    frame.insert(0, "time", pd.date_range("2021-01-01", periods=LENGTH, freq="h"))
    frame["label"] = labels(180, 190)
    frame.to_csv(root / "plant.csv", index=False)
    return root


@cache
def data_root() -> Path:
    root = Path(tempfile.mkdtemp(prefix="omniad_ts_data_"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    write_nab(root / "nab")
    write_tsbad(root / "tsbad")
    write_ucr(root / "ucr")
    write_smd(root / "smd")
    write_table(root / "table")
    return root


def load(dataset_id: str, **params: object) -> list:
    return list(get_registry().get("dataset", dataset_id).create(params).subsets())


REAL_NAB = shared_data_root() / "data" / "nab"
needs_nab = pytest.mark.skipif(
    not (REAL_NAB / "labels" / "combined_windows.json").is_file(),
    reason=f"NAB data not found at {REAL_NAB} (set OMNIAD_SHARED_DATA to the shared data folder)",
)


# -- the train-prefix rule --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("length", "first", "expected"),
    [
        (1538, 271, 500),  # TSB-AD 010_NAB_id_10 (exchange-3_cpc): tr_500_1st_271
        (10320, 5839, 2579),  # TSB-AD 006_NAB_id_6 (nyc_taxi): tr_2579_1st_5839
        (4032, 2014, 1007),  # TSB-AD 001_NAB_id_1: tr_1007_1st_2014
        (20000, 1846, 1746),  # TSB-AD 039_WSD_id_11: tr_1746_1st_1846
        (18240, 11820, 4559),  # TSB-AD 032_WSD_id_4: tr_4559
    ],
)
def test_tsbad_rule_reproduces_published_file_names(length: int, first: int, expected: int) -> None:
    y = np.zeros(length, dtype=int)
    y[first : first + 10] = 1
    assert tsbad_train_length(y) == expected


def test_other_train_rules() -> None:
    y = labels(200, 210)
    assert train_length("fraction", y, 0.25) == 60
    assert train_length("probation", y) == 36
    assert train_length("none", y) == LENGTH


# -- NAB ----------------------------------------------------------------------------------
def test_nab_layout_labels_and_selection() -> None:
    root = data_root() / "nab"
    subsets = load("timeseries.nab", root=str(root), train="fraction", train_fraction=0.5)
    assert [s.name for s in subsets] == ["realA/one", "realA/two"]  # the unlabelled series is skipped
    one = subsets[0]
    assert np.flatnonzero(one.test.targets[0]).tolist() == list(range(150, 170))  # both window ends included
    assert len(one.train.samples[0]) == LENGTH // 2 and one.test.samples[0].shape == (LENGTH,)
    everything = load("timeseries.nab", root=str(root), include_unlabelled=True)
    assert len(everything) == 3 and everything[0].test.n_anomalous == 0
    assert [s.name for s in load("timeseries.nab", root=str(root), series=["two"])] == ["realA/two"]
    with pytest.raises(DataError, match="unknown NAB categories"):
        load("timeseries.nab", root=str(root), categories=["nope"])
    with pytest.raises(DataError, match="labels not found"):
        load("timeseries.nab", root=str(root / "data"))


def _nab_copy(tmp_path: Path, edit) -> Path:
    root = shutil.copytree(data_root() / "nab", tmp_path / "nab")
    path = root / "data" / "realA" / "one.csv"
    frame = pd.read_csv(path)
    edit(frame)
    frame.to_csv(path, index=False)
    return root


def test_nab_unordered_timestamps_checked_or_sorted(tmp_path: Path) -> None:
    def swap(frame: pd.DataFrame) -> None:
        frame.loc[[10, 11], "timestamp"] = frame.loc[[11, 10], "timestamp"].to_numpy()

    root = _nab_copy(tmp_path, swap)
    with pytest.raises(DataError, match="timestamps go backwards at row 11"):
        load("timeseries.nab", root=str(root), series=["one"], order="check")
    sorted_subset = load("timeseries.nab", root=str(root), series=["one"], order="sort")[0]
    values = pd.read_csv(data_root() / "nab" / "data" / "realA" / "one.csv")["value"].to_numpy().copy()
    values[[10, 11]] = values[[11, 10]]  # each value travels with its timestamp
    np.testing.assert_allclose(sorted_subset.test.samples[0], values)


def test_nab_missing_values_policies(tmp_path: Path) -> None:
    def hole(frame: pd.DataFrame) -> None:
        frame.loc[5, "value"] = np.nan

    root = _nab_copy(tmp_path, hole)
    with pytest.raises(DataError, match="missing values .first at row 5"):
        load("timeseries.nab", root=str(root), series=["one"])
    filled = load("timeseries.nab", root=str(root), series=["one"], missing="interpolate")[0].test.samples[0]
    assert filled[5] == pytest.approx((filled[4] + filled[6]) / 2)
    dropped = load("timeseries.nab", root=str(root), series=["one"], missing="drop")[0]
    assert dropped.test.samples[0].shape == (LENGTH - 1,) and dropped.test.targets[0].sum() == 20


def test_nab_non_numeric_value(tmp_path: Path) -> None:
    def text(frame: pd.DataFrame) -> None:
        frame["value"] = frame["value"].astype(object)
        frame.loc[7, "value"] = "n/a!"

    root = _nab_copy(tmp_path, text)
    with pytest.raises(DataError, match="column 'value' is not numeric .row 7"):
        load("timeseries.nab", root=str(root), series=["one"])


@needs_nab
def test_real_nab_matches_tsbad_facts() -> None:
    subsets = load("timeseries.nab")
    assert len(subsets) == 35  # the labelled series of the five shared categories
    by_name = {s.name: s for s in subsets}
    exchange = by_name["realAdExchange/exchange-3_cpc_results"]
    # TSB-AD ships this series as 010_NAB_id_10_WebService_tr_500_1st_271.csv
    assert int(np.argmax(exchange.test.targets[0])) == 271
    assert len(exchange.train.samples[0]) == 500 and len(exchange.test.samples[0]) == 1538
    assert {s.meta["category"] for s in subsets} == {
        "artificialWithAnomaly", "realAWSCloudwatch", "realAdExchange", "realTraffic"
    }


# -- the other layouts ------------------------------------------------------------------------
def test_tsbad_files(tmp_path: Path) -> None:
    uni, multi = load("timeseries.tsbad", path=str(data_root() / "tsbad"))
    assert len(uni.train.samples[0]) == 100 and uni.test.samples[0].shape == (LENGTH,)
    assert multi.test.samples[0].shape == (LENGTH, 3) and len(multi.train.samples[0]) == 120
    assert int(np.argmax(multi.test.targets[0])) == 200 and multi.meta["domain"] == "Test"
    bad = tmp_path / "series.csv"
    shutil.copy(next((data_root() / "tsbad").glob("001_*.csv")), bad)
    with pytest.raises(DataError, match="_tr_<train length>_1st_<first anomaly>"):
        load("timeseries.tsbad", path=str(bad))
    frame = pd.read_csv(bad)
    frame.loc[3, "Label"] = 2
    wrong = tmp_path / "x_tr_10_1st_3.csv"
    frame.to_csv(wrong, index=False)
    with pytest.raises(DataError, match=r"labels must be 0 \(normal\) or 1"):
        load("timeseries.tsbad", path=str(wrong))


def test_ucr_file(tmp_path: Path) -> None:
    (subset,) = load("timeseries.ucr", path=str(data_root() / "ucr"))
    assert np.flatnonzero(subset.test.targets[0]).tolist() == list(range(150, 160))
    assert len(subset.train.samples[0]) == 100
    outside = tmp_path / "002_UCR_Anomaly_bad_100_230_260.txt"
    shutil.copy(next((data_root() / "ucr").glob("*.txt")), outside)
    with pytest.raises(DataError, match="lies outside the series"):
        load("timeseries.ucr", path=str(outside))


def test_smd_layout(tmp_path: Path) -> None:
    subsets = load("timeseries.smd", path=str(data_root() / "smd"))
    assert [s.name for s in subsets] == ["machine-1-1", "machine-1-2"]
    assert subsets[0].train.samples[0].shape == (LENGTH, 4) and subsets[0].test.samples[0].shape == (LENGTH, 4)
    root = shutil.copytree(data_root() / "smd", tmp_path / "smd")
    np.savetxt(root / "test_label" / "machine-1-1.txt", labels(100, 120)[:-5], fmt="%d")
    with pytest.raises(DataError, match="235 labels"):
        load("timeseries.smd", path=str(root), machines=["machine-1-1"])


def test_table_csv_and_parquet(tmp_path: Path) -> None:
    (subset,) = load("timeseries.table", path=str(data_root() / "table"), timestamp_column="time", train_rows=100)
    assert subset.test.samples[0].shape == (LENGTH, 2) and len(subset.train.samples[0]) == 100
    frame = pd.read_csv(data_root() / "table" / "plant.csv")
    frame["b"] = 1.0  # a constant channel is data, not an error
    frame.to_parquet(tmp_path / "plant.parquet")
    (parquet,) = load("timeseries.table", path=str(tmp_path / "plant.parquet"), timestamp_column="time",
                      value_columns=["b"], train="fraction", train_fraction=0.5)
    assert parquet.test.samples[0].shape == (LENGTH,) and np.ptp(parquet.test.samples[0]) == 0
    with pytest.raises(DataError, match="no label column 'y'"):
        load("timeseries.table", path=str(data_root() / "table"), label_column="y")
    with pytest.raises(DataError, match="column 'time' is not numeric"):
        load("timeseries.table", path=str(data_root() / "table"))  # the timestamp column taken as a channel


def test_bundled_sktime_and_aeon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if package_data_dir("sktime") is None:
        pytest.skip("sktime is not installed")
    names = [s.name for s in load("timeseries.bundled", sources=["sktime"])]
    assert names == ["sktime/mitdb", "sktime/yahoo"]
    folder = tmp_path / "aeon" / "datasets" / "data" / "KDD-TSAD_1"
    folder.mkdir(parents=True)
    for part, n in (("TRAIN", 80), ("TEST", LENGTH)):
        pd.DataFrame({"timestamp": range(n), "value": series(5)[:n, 0],
                      "is_anomaly": labels(150, 160)[:n]}).to_csv(folder / f"001_UCR_toy_{part}.csv", index=False)
    monkeypatch.setattr(bundled, "package_data_dir", lambda name: tmp_path / "aeon" / "datasets" / "data")
    (subset,) = load("timeseries.bundled", sources=["aeon"])
    assert subset.name == "aeon/001_UCR_toy" and len(subset.train.samples[0]) == 80
    monkeypatch.setattr(bundled, "package_data_dir", lambda name: None)
    with pytest.raises(DataError, match="pip install sktime"):
        load("timeseries.bundled")


# -- synthetic ----------------------------------------------------------------------------
def test_synthetic_is_seeded_and_labels_where_it_injects() -> None:
    params = {"n_series": 2, "length": 600, "period": 30, "train_length": 150, "n_anomalies": 6, "severity": 3}
    a, b = load("timeseries.synthetic", **params), load("timeseries.synthetic", **params)
    np.testing.assert_array_equal(a[0].test.samples[0], b[0].test.samples[0])
    for subset in a:
        y = subset.test.targets[0]
        assert not y[:150].any() and y.any()
        assert sorted({m["kind"] for m in subset.meta["anomalies"]}) == sorted(
            ["point", "contextual", "collective", "level_shift", "trend", "seasonal"]
        )
        assert subset.test.severity.tolist() == [3.0]
    other = load("timeseries.synthetic", **{**params, "seed": 1})
    assert not np.allclose(other[0].test.samples[0], a[0].test.samples[0])


@pytest.mark.parametrize("kind", ["point", "contextual", "collective", "level_shift", "trend", "seasonal"])
def test_synthetic_anomaly_changes_only_its_range_and_channels(kind: str) -> None:
    params = {"n_series": 1, "length": 500, "n_channels": 3, "period": 25, "train_length": 100,
              "n_anomalies": 1, "anomaly_types": [kind], "noise": 0.0}
    (subset,) = load("timeseries.synthetic", **params)
    x = subset.test.samples[0]
    info = subset.meta["anomalies"][0]
    # the same generator without anomalies: same seed, so the same normal signal
    clean = Synthetic(params)._normal(np.random.default_rng([0, 0]))
    changed = ~np.isclose(x, clean)
    rows = np.flatnonzero(changed.any(axis=1))
    assert rows.size and rows.min() >= info["start"] and rows.max() < info["end"]
    assert np.flatnonzero(changed.any(axis=0)).tolist() == info["channels"]


def test_synthetic_rejects_no_room() -> None:
    with pytest.raises(ConfigError, match="leaves no room"):
        get_registry().get("dataset", "timeseries.synthetic").create({"length": 200, "train_length": 190})


def test_render_examples_writes_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    (subset,) = load("timeseries.synthetic", n_series=1, length=300, train_length=60, period=20, n_channels=2)
    dataset = get_registry().get("dataset", "timeseries.synthetic").create({})
    local = [np.abs(subset.test.samples[0]).sum(axis=1)]
    paths = dataset.render_examples(subset, Scores(sample=[local[0].max()], local=local), tmp_path)
    assert len(paths) == 1 and paths[0].read_bytes()[:4] == b"\x89PNG"


# -- the conformance kit ----------------------------------------------------------------------
class TestSyntheticConformance(DatasetConformance):
    dataset_id = "timeseries.synthetic"
    params: ClassVar[dict[str, Any]] = {"n_series": 2, "length": 300, "train_length": 60, "period": 20}


class TestNABConformance(DatasetConformance):
    dataset_id = "timeseries.nab"
    train_may_contain_anomalies = True

    @property
    def params(self) -> dict[str, Any]:  # type: ignore[override]
        return {"root": str(data_root() / "nab")}


class TestTSBADConformance(DatasetConformance):
    dataset_id = "timeseries.tsbad"
    train_may_contain_anomalies = True

    @property
    def params(self) -> dict[str, Any]:  # type: ignore[override]
        return {"path": str(data_root() / "tsbad")}


class TestUCRConformance(DatasetConformance):
    dataset_id = "timeseries.ucr"

    @property
    def params(self) -> dict[str, Any]:  # type: ignore[override]
        return {"path": str(data_root() / "ucr")}


class TestSMDConformance(DatasetConformance):
    dataset_id = "timeseries.smd"

    @property
    def params(self) -> dict[str, Any]:  # type: ignore[override]
        return {"path": str(data_root() / "smd")}


class TestTableConformance(DatasetConformance):
    dataset_id = "timeseries.table"

    @property
    def params(self) -> dict[str, Any]:  # type: ignore[override]
        return {"path": str(data_root() / "table"), "timestamp_column": "time"}


class TestBundledConformance(DatasetConformance):
    dataset_id = "timeseries.bundled"
    params: ClassVar[dict[str, Any]] = {"sources": ["sktime"]}
    train_may_contain_anomalies = True
