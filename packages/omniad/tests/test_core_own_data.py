"""omniad on a user's own data: fit / score / detect from Python and the CLI, with or without labels."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import omniad
from omniad.cli import main
from omniad.decision import DecisionRule, calibration_split
from omniad.detector import Detector
from omniad.errors import ConfigError, DataError

RNG = np.random.default_rng(0)
NORMAL = RNG.normal(size=(200, 3))
NEW = RNG.normal(size=(50, 3))
NEW[:5] += 6.0


def write_csv(path: Path, x: np.ndarray, labels: np.ndarray | None = None) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["a", "b", "c"] + (["label"] if labels is not None else []))
        for i, row in enumerate(x):
            writer.writerow([repr(float(v)) for v in row] + ([int(labels[i])] if labels is not None else []))
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {
        "normal": write_csv(tmp_path / "normal.csv", NORMAL),
        "new": write_csv(tmp_path / "new.csv", NEW),
        "labelled": write_csv(tmp_path / "labelled.csv", NEW, (np.arange(50) < 5).astype(int)),
    }


def test_python_fit_score_on_paths_flags_the_shifted_rows(files: dict[str, Path], tmp_path: Path) -> None:
    said: list[str] = []
    model = omniad.fit("core.knn", files["normal"], say=said.append)
    assert said[0].startswith(f"reading {files['normal']} with core.csv_table")
    t = model.thresholds_["sample"]
    assert t.rule == "quantile" and t.calibration == "held-out (40 of 200 samples)" and t.n_scores == 40
    results = omniad.score(model, files["new"], output_dir=tmp_path / "out", say=said.append)
    rows = results.samples.rows()
    flagged = {r["sample"] for r in rows if r["decision"] == 1}
    assert {f"row-{i}" for i in range(5)} <= flagged and len(flagged) <= 8
    assert "the source has no labels: metrics skipped (scores and decisions only)" in results.notes
    assert (tmp_path / "out" / "samples.csv").is_file()
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["n_samples"] == 50 and summary["thresholds"]["sample"]["value"] == pytest.approx(t.value)


def test_labelled_source_gets_metrics_beside_the_decisions(files: dict[str, Path]) -> None:
    model = omniad.fit("core.knn", files["normal"], say=lambda _: None)
    results = omniad.score(model, files["labelled"], say=lambda _: None)
    assert results.metrics["sample_auroc"] == 1.0
    assert results.metrics["sample_recall"] == 1.0 and results.metrics["sample_precision"] >= 0.6


def test_cli_fit_then_score_in_a_fresh_process_equals_the_python_api(files: dict[str, Path], tmp_path: Path) -> None:
    model_dir, out = tmp_path / "model", tmp_path / "cli-out"
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    for argv in (["fit", "core.knn", str(files["normal"]), "-o", str(model_dir), "-p", "n_neighbors=3"],
                 ["score", str(model_dir), str(files["new"]), "-o", str(out)]):
        proc = subprocess.run([sys.executable, "-m", "omniad", *argv], capture_output=True, text=True, env=env,
                              timeout=600)
        assert proc.returncode == 0, proc.stderr
    with (out / "samples.csv").open() as fh:
        cli = [(r["sample"], float(r["score"]), int(r["decision"])) for r in csv.DictReader(fh)]
    model = omniad.fit("core.knn", files["normal"], params={"n_neighbors": 3}, say=lambda _: None)
    api = omniad.score(model, files["new"], say=lambda _: None).samples.rows()
    assert cli == [(r["sample"], r["score"], r["decision"]) for r in api]  # exactly, not approximately


def test_predict_is_an_alias_of_score(files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fit", "core.mahalanobis", str(files["normal"]), "-o", str(tmp_path / "m")]) == 0
    assert main(["predict", str(tmp_path / "m"), str(files["new"]), "-o", str(tmp_path / "o")]) == 0
    assert "samples flagged" in capsys.readouterr().out


def test_detect_with_a_contamination_share_flags_that_share(files: dict[str, Path], tmp_path: Path) -> None:
    mixed = write_csv(tmp_path / "mixed.csv", np.vstack([NORMAL, NEW[:5]]))
    model, results = omniad.detect("core.knn", mixed, contamination=0.025, output_dir=tmp_path / "d",
                                   say=lambda _: None)
    decisions = np.array([r["decision"] for r in results.samples.rows()])
    assert decisions[-5:].sum() == 5 and 5 <= decisions.sum() <= 7  # 2.5% of 205 ~ 5
    assert model.thresholds_["sample"].rule == "contamination"
    assert Detector.load(tmp_path / "d" / "model").thresholds_["sample"].value == model.thresholds_["sample"].value


def test_detect_on_the_part_named_normal(files: dict[str, Path], tmp_path: Path) -> None:
    mixed = write_csv(tmp_path / "mixed.csv", np.vstack([NORMAL, NEW[:5]]))
    said: list[str] = []
    _, results = omniad.detect("core.knn", mixed, normal_first=0.9, say=said.append)
    assert any("first 90%" in s for s in said)
    assert [r["decision"] for r in results.samples.rows()][-5:] == [1] * 5
    with pytest.raises(ConfigError, match="name the normal data once"):
        omniad.detect("core.knn", mixed, normal=files["normal"], normal_first=0.5)


def test_bare_arrays_paths_and_bad_input(files: dict[str, Path]) -> None:
    det = omniad.create_detector("core.knn").fit(NORMAL)
    np.testing.assert_allclose(det.score(str(files["new"])).sample, det.score(NEW).sample)
    with pytest.raises(DataError, match="does not exist"):
        det.score("no/such/file.csv")
    with pytest.raises(DataError, match="wrap a single sample in a list, or pass a file or folder path"):
        det.score(3.0)  # type: ignore[arg-type]


def test_loader_choice_and_unreadable_paths(files: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "notes.xyz").write_text("x")
    with pytest.raises(DataError, match=r"no installed loader reads a \.xyz file of tabular data; loaders that read "
                                        r"paths: core\.csv_table \(\.csv \.npy\)"):
        omniad.fit("core.knn", tmp_path / "notes.xyz", say=lambda _: None)
    with pytest.raises(ConfigError, match="loader 'core.blobs' cannot open a path"):
        omniad.fit("core.knn", files["normal"], loader="core.blobs", say=lambda _: None)


def test_thresholds_in_a_tampered_model_fail_at_load(files: dict[str, Path], tmp_path: Path) -> None:
    omniad.fit("core.knn", files["normal"], say=lambda _: None).save(tmp_path / "m")
    header = json.loads((tmp_path / "m" / "omniad.json").read_text())
    header["thresholds"]["sample"]["value"] = "high"
    (tmp_path / "m" / "omniad.json").write_text(json.dumps(header))
    with pytest.raises(DataError, match="saved threshold is not usable"):
        Detector.load(tmp_path / "m")
    (tmp_path / "m" / "source.json").write_text("[1]")
    with pytest.raises(DataError):
        Detector.load(tmp_path / "m")


def test_threshold_rules() -> None:
    assert DecisionRule.parse("0.95") == DecisionRule("quantile", 0.95)
    assert DecisionRule.parse("pot:1e-3").rule == "pot"
    with pytest.raises(ConfigError, match="must be in"):
        DecisionRule.parse("contamination:1.5")
    with pytest.raises(ConfigError, match="unknown"):
        DecisionRule.parse("median:0.5")
    series = [np.arange(100.0)]
    fit, cal, how = calibration_split(series, DecisionRule(), localization="timestep", seed=0)
    assert len(fit[0]) == 80 and len(cal[0]) == 20 and how == "held-out (last 20% of each series)"
    fit, cal, how = calibration_split([1, 2, 3], DecisionRule(), localization=None, seed=0)
    assert how == "in-sample (only 3 samples)"


def test_pot_without_enough_scores_falls_back_and_says_so(files: dict[str, Path]) -> None:
    model = omniad.fit("core.knn", files["normal"], threshold="pot:0.001", say=lambda _: None)
    t = model.thresholds_["sample"]
    assert t.rule == "quantile" and "pot" in t.note


def grid(tmp_path: Path, **extra: object) -> Path:
    lines = [f'output_dir = "{tmp_path / "run"}"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items() if k != "score"]
    lines += ['[[detectors]]', 'id = "core.knn"', '[[datasets]]', 'id = "core.csv_table"',
              f'params = {{ path = "{tmp_path / "normal.csv"}", split = "all" }}']
    if "score" in extra:
        lines.append(f'score = "{extra["score"]}"')
    path = tmp_path / "grid.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_grid_on_unlabelled_data_runs_without_metrics_and_says_so(files: dict[str, Path], tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(grid(tmp_path)), "--no-progress"]) == 0
    record = next(iter((tmp_path / "run" / "jobs").glob("*.json")))
    data = json.loads(record.read_text())
    assert data["status"] == "ok" and data["metrics"] == {}
    assert data["subsets"][0]["unlabelled"] is True
    assert "no labels in 1 of 1 subsets" in data["data_notes"]
    assert "no labels" in capsys.readouterr().out


def test_grid_with_a_separate_score_source_and_saved_models(files: dict[str, Path], tmp_path: Path) -> None:
    config = grid(tmp_path, score=str(files["labelled"]), save_models=True, save_scores=True)
    assert main(["run", str(config), "--no-progress"]) == 0
    data = json.loads(next(iter((tmp_path / "run" / "jobs").glob("*.json"))).read_text())
    assert data["dataset"]["score"] == {"path": str(files["labelled"])}
    assert data["dataset"]["label"].endswith("→ " + str(files["labelled"]))
    sub = data["subsets"][0]
    assert sub["name"] == "normal → labelled" and sub["n_test"] == 50
    assert data["metrics"]["core.auroc"] == 1.0
    model = tmp_path / "run" / sub["model"]
    assert (tmp_path / "run" / sub["scores"] / "samples.csv").is_file()
    again = omniad.score(model, files["labelled"], say=lambda _: None)
    assert again.metrics["sample_auroc"] == 1.0


def test_a_score_source_that_does_not_exist_fails_validation(files: dict[str, Path], tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(grid(tmp_path, score=str(tmp_path / "missing.csv")))]) == 2
    assert "score source" in capsys.readouterr().err


def test_fit_keeps_the_methods_own_threshold(files: dict[str, Path]) -> None:
    """``threshold_`` is the method's own decision rule (PCA's Q-statistic, ...); calibration goes to ``thresholds_``."""
    det = omniad.create_detector("core.knn")
    det.threshold_ = 123.0  # stands in for a rule the method set in _fit
    det._fit = lambda samples, _fit=det._fit: _fit(samples)  # type: ignore[method-assign]
    model = omniad.fit(det, files["normal"], say=lambda _: None)
    assert model.threshold_ == 123.0 and model.thresholds_["sample"].value != 123.0


def test_a_new_tables_columns_are_checked_against_the_fitted_ones() -> None:
    from omniad.sources import check_fitted_columns

    check_fitted_columns(["cpu", "mem", "time"], ["cpu", "mem"], ("time",), "t.csv", "channels")  # nothing to say
    with pytest.warns(UserWarning, match=r"t.csv: columns \['disk'\] were not channels of the model's fit data"):
        check_fitted_columns(["cpu", "disk", "mem"], ["cpu", "mem"], (None,), "t.csv", "channels")
    with pytest.raises(DataError, match=r"fitted on fields \['cpu', 'mem'\], but this file has no \['mem'\]"):
        check_fitted_columns(["cpu"], ["cpu", "mem"], (), "t.csv", "fields")
