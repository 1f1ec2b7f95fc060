"""Time series on your own data: the README's two commands in fresh processes, equal to the Python API.

The README fits on one NAB AWS CPU series and scores another, both from ``../shared`` and
both unlabelled as NAB ships them (``timestamp,value``; NAB's labels live in a separate JSON
file, used here only to check where the flags fall). The rest: labelled and folder sources,
the timestamp rule, the channels a model keeps, and what ``fit`` / ``score`` accept in memory.
"""

from __future__ import annotations

import csv
import json
import os
import shlex
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import omniad
from omniad.errors import DataError
from omniad.plugins import get_registry
from omniad.sources import SourceSpec, resolve
from omniad.testing.scores import assert_same_scores
from omniad_timeseries.datasets.reading import find_timestamp_column, shared_data_root

README = Path(__file__).resolve().parents[1] / "README.md"
NAB = shared_data_root() / "data" / "nab"
AWS = NAB / "data" / "realAWSCloudwatch"
needs_nab = pytest.mark.skipif(
    not AWS.is_dir(), reason=f"NAB data not found at {NAB} (set OMNIAD_SHARED_DATA to the shared data folder)")
ENV = {**os.environ, "PYTHONHASHSEED": "0"}


def quiet(_: str) -> None:
    pass


def readme_commands() -> list[list[str]]:
    """The ``omniad ...`` lines of the README's "Your own data" block, split like a shell would."""
    section = README.read_text().split("## Your own data", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    return [shlex.split(line) for line in block.splitlines() if line.startswith("omniad ")]


def shared(arg: str) -> str:
    return str(shared_data_root() / arg.removeprefix("../shared/")) if arg.startswith("../shared/") else arg


def nab_labels(path: Path) -> np.ndarray:
    """NAB's label windows for one file, per row (both ends included, NAB's convention)."""
    windows = json.loads((NAB / "labels" / "combined_windows.json").read_text())[f"{path.parent.name}/{path.name}"]
    stamps = pd.to_datetime(pd.read_csv(path)["timestamp"])
    labels = np.zeros(len(stamps), dtype=np.int8)
    for start, end in windows:
        labels[(stamps >= pd.Timestamp(start)) & (stamps <= pd.Timestamp(end))] = 1
    return labels


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def readme_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The README's two commands as written, each in a fresh process, from a scratch folder."""
    if not AWS.is_dir():
        pytest.skip(f"NAB data not found at {NAB} (set OMNIAD_SHARED_DATA to the shared data folder)")
    work = tmp_path_factory.mktemp("readme")
    (fit, score) = readme_commands()
    assert fit[:2] == ["omniad", "fit"] and score[:2] == ["omniad", "score"], (fit, score)
    for argv in (fit, score):
        proc = subprocess.run([sys.executable, "-m", "omniad", *[shared(a) for a in argv[1:]]], cwd=work,
                              capture_output=True, text=True, env=ENV, timeout=600)
        assert proc.returncode == 0, f"{shlex.join(argv)}:\n{proc.stderr[-3000:]}"
    return {"work": work, "fit": fit, "score": score, "out": work / score[score.index("-o") + 1]}


@needs_nab
def test_readme_commands_in_fresh_processes_equal_the_python_api(readme_run: dict[str, object]) -> None:
    out, fit, score = readme_run["out"], readme_run["fit"], readme_run["score"]
    assert isinstance(out, Path) and isinstance(fit, list) and isinstance(score, list)
    fit_file, score_file = Path(shared(fit[3])), Path(shared(score[3]))
    samples, elements = read_csv(out / "samples.csv"), read_csv(out / "elements.csv")
    assert [(r["subset"], r["sample"]) for r in samples] == [(score_file.stem, score_file.name)]
    assert list(elements[0]) == ["subset", "sample", "timestamp", "row", "score", "decision"]
    frame = pd.read_csv(score_file)
    assert [r["timestamp"] for r in elements] == frame["timestamp"].tolist()  # named as in the file
    assert [int(r["row"]) for r in elements] == list(range(len(frame)))
    pictures = sorted((out / "pictures").rglob("*.png"))
    assert [p.name for p in pictures] == [f"{score_file.stem}.png"] and pictures[0].read_bytes()[:4] == b"\x89PNG"
    summary = json.loads((out / "summary.json").read_text())
    assert "the source has no labels: metrics skipped (scores and decisions only)" in summary["notes"]
    assert summary["metrics"] == {} and summary["source"]["loader"] == "timeseries.table"
    assert summary["source"]["params"]["timestamp_column"] == "auto"

    model = omniad.fit(fit[2], fit_file, device="cpu", say=quiet)
    api = omniad.score(model, score_file, say=quiet)
    assert [(r["sample"], r["score"], r["decision"]) for r in api.samples.rows()] == [
        (r["sample"], float(r["score"]), int(r["decision"])) for r in samples]  # exactly, not approximately
    assert api.elements.columns["score"] == [float(r["score"]) for r in elements]
    assert api.elements.columns["decision"] == [int(r["decision"]) for r in elements]

    # where the flags fall, by NAB's own labels: measured 125 of 4032 timesteps flagged, all of them in
    # NAB's window around the jump of 2014-02-25 00:30
    flagged = np.array([int(r["decision"]) for r in elements], dtype=bool)
    truth = nab_labels(score_file).astype(bool)
    assert 20 <= flagged.sum() <= 400 and (flagged & truth).sum() / flagged.sum() >= 0.9


@needs_nab
def test_a_labelled_csv_gets_metrics_and_the_fit_leaves_the_anomalies_out(readme_run: dict[str, object],
                                                                          tmp_path: Path) -> None:
    score_file = Path(shared(readme_run["score"][3]))  # type: ignore[index]
    frame = pd.read_csv(score_file)
    frame["label"] = nab_labels(score_file)
    labelled = tmp_path / "labelled.csv"
    frame.to_csv(labelled, index=False)
    model = omniad.load_detector(readme_run["work"] / readme_run["fit"][-1])  # type: ignore[operator,index]
    results = omniad.score(model, labelled, say=quiet)
    # measured: per-timestep AUROC 0.936, precision 1.0 of the flagged timesteps
    assert results.metrics["element_auroc"] >= 0.85 and results.metrics["element_precision"] >= 0.9
    assert "label" in results.elements.columns

    resolved = resolve(SourceSpec(path=str(labelled)), get_registry(), modality="timeseries")
    (subset,) = get_registry().get("dataset", resolved.id).create(resolved.params).subsets()
    assert subset.test.ids == ["labelled.csv"] and subset.test.n_anomalous == 1
    counts = subset.meta["counts"]
    n_anomalous = int(frame["label"].sum())
    assert counts["train_timesteps_labelled_anomalous"] == n_anomalous
    assert sum(len(s) for s in subset.train.samples) + n_anomalous + counts.get(
        "train_timesteps_in_short_normal_stretches", 0) == len(frame)
    assert all(not frame["label"].iloc[int(i.split("[")[1].split(":")[0])] for i in subset.train.ids)


@needs_nab
def test_pot_thresholds_for_the_timesteps(tmp_path: Path) -> None:
    """``--threshold pot:0.001``: a tail fitted to the held-out timestep scores (one series: the sample level falls back)."""
    said: list[str] = []
    model = omniad.fit("timeseries.sub_knn", AWS / "ec2_cpu_utilization_5f5533.csv", threshold="pot:0.001",
                       device="cpu", say=said.append)
    element, sample = model.thresholds_["element"], model.thresholds_["sample"]
    assert element.rule == "pot" and element.param == 0.001 and element.n_scores == 806, element
    assert sample.rule == "quantile" and "pot fell back" in sample.note
    quantile = omniad.fit("timeseries.sub_knn", AWS / "ec2_cpu_utilization_5f5533.csv", device="cpu", say=quiet)
    assert element.value > quantile.thresholds_["element"].value  # risk 1e-3 sits beyond the 0.99 quantile


def write(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


def series_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.DataFrame({"when": pd.date_range("2024-01-01", periods=n, freq="min").astype(str),
                         "cpu": np.sin(2 * np.pi * t / 25) + 0.05 * rng.standard_normal(n),
                         "mem": np.cos(2 * np.pi * t / 25) + 0.05 * rng.standard_normal(n)})


def test_the_timestamp_rule() -> None:
    frame = series_frame(20)
    assert find_timestamp_column(frame) == "when"  # text that parses as dates in every row
    assert find_timestamp_column(frame.rename(columns={"when": "Time"})) == "Time"  # by name
    numeric = pd.DataFrame({"TS": np.arange(5.0), "value": np.arange(5.0)})
    assert find_timestamp_column(numeric) == "TS"  # by name even when numeric (epoch seconds)
    assert find_timestamp_column(numeric.rename(columns={"TS": "epoch"})) is None  # numbers are never guessed
    mixed = pd.DataFrame({"host": ["a", "b"], "at": ["2024-01-01", "soon"], "v": [1.0, 2.0]})
    assert find_timestamp_column(mixed) is None
    typed = pd.DataFrame({"v": [1.0, 2.0], "stamp": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    assert find_timestamp_column(typed) == "stamp"  # a datetime column (parquet keeps the type)


def test_a_folder_of_files_is_one_subset_named_by_its_files(tmp_path: Path) -> None:
    folder = tmp_path / "hosts"
    folder.mkdir()
    write(folder / "a.csv", series_frame(seed=1))
    series_frame(seed=2).to_parquet(folder / "b.parquet")
    (folder / "notes.txt").write_text("the b host was rebooted")
    said: list[str] = []
    with pytest.warns(UserWarning, match=r"1 file\(s\) in .*hosts are not CSV/parquet, skipped: notes.txt"):
        model = omniad.fit("timeseries.sub_knn", folder, device="cpu", say=said.append)
    assert said[0] == f"reading {folder} with timeseries.table (it reads a folder)"
    assert model.source_["state"] == {"channels": ["cpu", "mem"]}
    with pytest.warns(UserWarning, match="not CSV/parquet"):
        results = omniad.score(model, folder, say=quiet)
    assert [r["sample"] for r in results.samples.rows()] == ["a.csv", "b.parquet"]
    assert results.elements.columns["timestamp"][:2] == ["2024-01-01 00:00:00", "2024-01-01 00:01:00"]
    assert results.elements.n_rows == 800

    write(folder / "c.csv", series_frame(seed=3).drop(columns="mem"))
    (folder / "notes.txt").unlink()
    with pytest.raises(DataError, match=r"c.csv has channels \['cpu'\] but a.csv has \['cpu', 'mem'\]"):
        omniad.fit("timeseries.sub_knn", folder, device="cpu", say=quiet)


def test_a_new_file_is_read_with_the_fitted_channels(tmp_path: Path) -> None:
    model = omniad.fit("timeseries.sub_knn", write(tmp_path / "fit.csv", series_frame()), device="cpu", say=quiet)
    reordered = series_frame(seed=4)[["mem", "when", "cpu"]].assign(host="db-1", disk=1.0)
    with pytest.warns(UserWarning, match=r"columns \['host', 'disk'\] were not channels of the model's fit data; not used"):
        results = omniad.score(model, write(tmp_path / "new.csv", reordered), say=quiet)
    same = omniad.score(model, write(tmp_path / "same.csv", series_frame(seed=4)), say=quiet)
    assert results.elements.columns["score"] == same.elements.columns["score"]  # cpu, mem in the fitted order
    with pytest.raises(DataError, match=r"fitted on channels \['cpu', 'mem'\], but this file has no \['mem'\]"):
        omniad.score(model, write(tmp_path / "less.csv", series_frame().drop(columns="mem")), say=quiet)


def test_labels_missing_or_wrong(tmp_path: Path) -> None:
    frame = series_frame()
    table = get_registry().get("dataset", "timeseries.table")
    (subset,) = table.create({"path": str(write(tmp_path / "plain.csv", frame)), "timestamp_column": "when"}).subsets()
    assert subset.test.labels is None and subset.test.targets is None  # no label column: unlabelled, benchmark mode too
    with pytest.raises(DataError, match=r"no label column 'is_anomaly' \(columns: \['when', 'cpu', 'mem'\]\)"):
        list(table.create({"path": str(tmp_path / "plain.csv"), "label_column": "is_anomaly"}).subsets())
    with pytest.raises(DataError, match=r"labels must be 0 \(normal\) or 1 \(anomalous\), found \[2.0\]"):
        omniad.fit("timeseries.sub_knn", write(tmp_path / "bad.csv", frame.assign(label=2)), say=quiet)
    everything_labelled = frame.assign(label=1)
    with pytest.raises(DataError, match="no stretch of at least 100 timesteps without labelled anomalies"):
        omniad.fit("timeseries.sub_knn", write(tmp_path / "all.csv", everything_labelled), say=quiet)


def test_repairs_are_counted(tmp_path: Path) -> None:
    frame = series_frame()
    frame.loc[[10, 11], "cpu"] = np.nan
    path = write(tmp_path / "gaps.csv", frame)
    with pytest.raises(DataError, match="2 rows have missing values"):
        omniad.fit("timeseries.sub_knn", path, say=quiet)
    resolved = resolve(SourceSpec(path=str(path), params={"missing": "drop"}), get_registry(), modality="timeseries")
    (subset,) = get_registry().get("dataset", resolved.id).create(resolved.params).subsets()
    assert subset.meta["counts"] == {"rows_dropped_missing": 2}
    model = omniad.fit("timeseries.sub_knn", path, source_params={"missing": "drop"}, device="cpu", say=quiet)
    rows = omniad.score(model, path, say=quiet).elements.columns["row"]
    assert rows[9:11] == [9, 12] and len(rows) == 398  # rows keep their number in the file


# -- in memory: arrays, lists, DataFrames -----------------------------------------------------
def fitted() -> omniad.Detector:
    x = series_frame(seed=5)["cpu"].to_numpy()
    return omniad.create_detector("timeseries.sub_knn", {"window": 25}, device="cpu", seed=0).fit(x)


def test_one_bare_series_is_one_sample() -> None:
    det = fitted()
    x = series_frame(seed=6)["cpu"].to_numpy()
    one = det.score(x)
    assert one.sample.shape == (1,) and one.local[0].shape == x.shape  # (T,) is one series, not T samples
    assert_same_scores(det.score(x[:, None]).sample, one.sample)  # (T, 1)
    assert_same_scores(det.score(list(x)).sample, one.sample)  # a list of numbers
    assert_same_scores(det.score(pd.Series(x, name="cpu")).sample, one.sample)
    assert_same_scores(det.score([x, x]).sample, np.r_[one.sample, one.sample])  # a list: several
    assert_same_scores(det.score(np.stack([x[:, None]] * 3)).sample, np.repeat(one.sample, 3))  # (B, T, C)


def test_a_dataframe_is_one_series_of_its_numeric_columns(tmp_path: Path) -> None:
    frame = series_frame(seed=7)
    det = omniad.create_detector("timeseries.sub_knn", {"window": 25}, device="cpu", seed=0).fit(
        series_frame(seed=8)[["cpu", "mem"]].to_numpy())
    expected = det.score(frame[["cpu", "mem"]].to_numpy())
    labelled = frame.assign(label=0, host="db-1")
    with pytest.warns(UserWarning, match=r"a DataFrame is one series; channels \['cpu', 'mem'\]; not used: 'when' "
                                         r"\(the time column\), 'label' \(labels are not input\), 'host' \(not numeric\)"):
        got = det.score(labelled)
    assert_same_scores(got.sample, expected.sample)
    indexed = frame.set_index(pd.to_datetime(frame["when"])).drop(columns="when")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing left out: nothing to say
        assert_same_scores(det.score(indexed).sample, expected.sample)
    assert det.score([frame[["cpu", "mem"]], frame[["cpu", "mem"]]]).sample.shape == (2,)
    with pytest.raises(DataError, match=r"the DataFrame has no numeric columns \(columns: \['host'\]\); pass one series"):
        det.score(pd.DataFrame({"host": ["a", "b", "c"]}))
    path = write(tmp_path / "frame.csv", frame)
    assert_same_scores(det.score(str(path)).sample, expected.sample)  # a path: read by the table loader


def test_what_is_not_a_series_fails_saying_what_to_pass() -> None:
    det = fitted()
    what = r"pass one series as a \(T,\) or \(T, C\) array, a list of numbers, a pandas Series or DataFrame"
    with pytest.raises(DataError, match=rf"got float; {what}"):
        det.score(3.0)  # type: ignore[arg-type]
    with pytest.raises(DataError, match=rf"got an array of shape \(2, 3, 4, 5\); {what}"):
        det.score(np.zeros((2, 3, 4, 5)))
    with pytest.raises(DataError, match=r"the pandas Series 'host' is not numeric"):
        det.score(pd.Series(["a", "b"], name="host"))
    with pytest.raises(DataError, match="series has 2 channels but the detector was fitted on 1"):
        det.score(np.zeros((100, 2)))
    with pytest.raises(DataError, match="does not exist"):
        det.score("no/such/file.csv")
