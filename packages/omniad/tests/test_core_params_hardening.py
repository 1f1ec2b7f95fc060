"""Honest parameters: no lax coercion, no silent clamps, plan-time checks, saved-state checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import Field

from omniad.builtins.tabular_detectors import KNN, Mahalanobis
from omniad.detector import Detector
from omniad.errors import ConfigError, DataError
from omniad.params import Params, validate_params
from omniad.plugins import get_registry
from omniad.runner import execute_job, parse_config
from omniad.runner.jobs import plan

SMALL = {"n_train": 40, "n_test_normal": 20, "n_test_anomalous": 5}

LOCAL_METRICS = """
from omniad import hookimpl

@hookimpl
def omniad_register_metrics(registry):
    registry.add(id="fakets.vus", target="omniad.builtins.metrics:LocalAUROC", modality="timeseries",
                 level="local", localization=("timestep",), summary="needs timesteps")
    registry.add(id="fakets.sample", target="omniad.builtins.metrics:AUROC", modality="timeseries",
                 summary="a time-series sample metric")
"""


class Mixed(Params):
    n: int = Field(default=5, ge=1)
    rate: float | None = None
    size: int | tuple[int, int] = 3
    mode: str | int = "auto"
    root: Path | None = None
    names: tuple[str, ...] = ()
    flag: bool = False
    pair: tuple[float, float] = (0.0, 1.0)


# -- 1. no bool/str -> number coercion ------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"n_neighbors": True}, "n_neighbors: got the boolean True, expected int"),
        ({"n_neighbors": "5"}, "n_neighbors: got the string '5', expected int"),
        ({"chunk_size": False}, "chunk_size: got the boolean False"),
    ],
)
def test_number_parameters_take_only_numbers(params, needle) -> None:
    with pytest.raises(ConfigError) as info:
        KNN(params)
    assert needle in str(info.value)


def test_registry_validation_rejects_coercion_too() -> None:
    entry = get_registry().get("detector", "core.knn")
    with pytest.raises(ConfigError, match="n_neighbors: got the boolean True, expected int"):
        entry.validate_params({"n_neighbors": True})
    cfg = parse_config({"detectors": [{"id": "core.knn", "params": {"n_neighbors": True}}],
                        "datasets": [{"id": "core.blobs"}]})
    with pytest.raises(ConfigError, match="n_neighbors"):
        plan(cfg, get_registry())


def test_coercion_check_looks_into_unions_and_tuples() -> None:
    with pytest.raises(ConfigError, match=r"rate: got the boolean True, expected float \| None"):
        validate_params(Mixed, {"rate": True}, "x")
    with pytest.raises(ConfigError, match="size: item 0: got the boolean True"):
        validate_params(Mixed, {"size": [True, 3]}, "x")
    with pytest.raises(ConfigError, match="pair: item 1: got the string '2'"):
        validate_params(Mixed, {"pair": [1, "2"]}, "x")


def test_what_toml_spells_as_lists_and_strings_still_validates() -> None:
    p = validate_params(
        Mixed, {"size": [2, 3], "mode": "auto", "root": "some/dir", "names": ["a", "b"], "flag": True,
                "pair": [1, 2], "rate": 1, "n": 4.0}, "x",
    )
    assert p.size == (2, 3) and p.root == Path("some/dir") and p.names == ("a", "b") and p.flag is True
    assert p.pair == (1.0, 2.0) and p.rate == 1.0 and p.n == 4
    # a validated model round-trips through JSON (what the runner stores and re-validates)
    assert validate_params(Mixed, p.model_dump(mode="json"), "x") == p


def test_every_registered_parameter_model_still_takes_its_own_defaults() -> None:
    for entry in get_registry().list():
        model = entry.params_model()
        try:
            defaults = model().model_dump(mode="json")
        except Exception:  # required parameters
            continue
        model.model_validate(defaults)


# -- 2. no silent clamps ---------------------------------------------------------------------
def test_a_user_set_parameter_beyond_the_data_fails_naming_the_limit() -> None:
    x = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(DataError) as info:
        KNN(n_neighbors=1_000_000_000).fit(x)
    assert "n_neighbors=1000000000 but only 20 training vectors were given; use at most 20" in str(info.value)


def test_a_default_beyond_the_data_is_lowered_and_recorded() -> None:
    rng = np.random.default_rng(0)
    train, test = rng.normal(size=(3, 2)), rng.normal(size=(6, 2))
    det = KNN().fit(train)
    assert det.adjusted_params == {
        "n_neighbors": {"requested": 5, "used": 3, "why": "only 3 training vectors were given"}
    }
    np.testing.assert_allclose(det.score(test).sample, KNN(n_neighbors=3).fit(train).score(test).sample)
    assert KNN().fit(rng.normal(size=(30, 2))).adjusted_params == {}


def test_the_runner_records_adjusted_defaults_per_subset(tmp_path) -> None:
    cfg = parse_config({"output_dir": str(tmp_path), "detectors": [{"id": "core.knn"}],
                        "datasets": [{"id": "core.blobs", "params": {**SMALL, "n_train": 3}}],
                        "metrics": ["core.auroc"]})
    record = execute_job(plan(cfg, get_registry())[0])
    assert record["status"] == "ok"
    assert record["subsets"][0]["adjusted_params"]["n_neighbors"]["used"] == 3
    assert record["adjusted"] == (
        "n_neighbors 5→3 (default lowered in 1 of 1 subsets: only 3 training vectors were given)"
    )


def test_the_reports_show_adjusted_defaults_beside_the_label(tmp_path) -> None:
    from omniad.runner.run import run

    cfg = parse_config({"output_dir": str(tmp_path), "detectors": [{"id": "core.knn"}],
                        "datasets": [{"id": "core.blobs", "params": {**SMALL, "n_train": 3}}],
                        "metrics": ["core.auroc"], "examples": 0})
    run(cfg, progress=False, log=lambda msg: None)
    note = "n_neighbors 5→3 (default lowered in 1 of 1 subsets"
    assert f"- core.knn: {note}" in (tmp_path / "results.md").read_text()
    assert f"Adjusted defaults, core.knn: {note}" in (tmp_path / "report.html").read_text()


# -- 3. metrics that cannot apply are rejected at plan time ----------------------------------
def test_a_metric_that_does_not_fit_the_dataset_is_rejected(make_plugin) -> None:
    make_plugin("fakets", LOCAL_METRICS)
    cfg = parse_config({"detectors": [{"id": "core.knn"}], "datasets": [{"id": "core.blobs"}],
                        "metrics": ["fakets.vus", "fakets.sample", "core.local_auroc"]})
    with pytest.raises(ConfigError) as info:
        plan(cfg, get_registry())
    text = str(info.value)
    assert "fakets.vus needs per-timestep targets (localization 'timestep'); dataset core.blobs has none" in text
    assert "fakets.sample is a timeseries metric; dataset core.blobs is tabular data" in text
    assert "core.local_auroc needs localization targets; dataset core.blobs has none" in text


def test_with_modality_pairing_a_misfit_metric_is_left_out_where_others_fit(make_plugin) -> None:
    make_plugin("fakets", LOCAL_METRICS)
    data = {"detectors": [{"id": "core.knn"}], "datasets": [{"id": "core.blobs"}],
            "metrics": ["core.auroc", "fakets.sample"]}
    jobs = plan(parse_config(data), get_registry())
    assert [m.id for m in jobs[0].metrics] == ["core.auroc"]
    with pytest.raises(ConfigError, match="fakets.sample is a timeseries metric"):
        plan(parse_config({**data, "pairing": "all"}), get_registry())


# -- 4. missing data paths are found at plan time --------------------------------------------
def test_missing_dataset_paths_fail_validation_all_at_once(tmp_path) -> None:
    (tmp_path / "there.csv").write_text("a,label\n1,0\n")
    cfg = parse_config({"detectors": [{"id": "core.knn"}], "datasets": [
        {"id": "core.csv_table", "params": {"path": str(tmp_path / "gone.csv")}},
        {"id": "core.csv_table", "params": {"path": str(tmp_path / "also_gone.csv")}},
        {"id": "core.csv_table", "params": {"path": str(tmp_path / "there.csv")}},
    ], "metrics": ["core.auroc"]})
    with pytest.raises(ConfigError) as info:
        plan(cfg, get_registry())
    text = str(info.value)
    assert "gone.csv does not exist" in text and "also_gone.csv does not exist" in text
    assert "there.csv" not in text and "parameter 'path'" in text and "dataset core.csv_table" in text


def test_validate_command_exits_2_on_a_missing_path(tmp_path, capsys) -> None:
    from omniad.cli import main

    config = tmp_path / "grid.toml"
    config.write_text(
        '[[detectors]]\nid = "core.knn"\n[[datasets]]\nid = "core.csv_table"\n'
        f'params = {{ path = "{tmp_path / "nope.csv"}" }}\n'
    )
    assert main(["validate", str(config)]) == 2
    assert "nope.csv does not exist" in capsys.readouterr().err


# -- 5. too little data for a covariance -----------------------------------------------------
def test_mahalanobis_on_one_row_says_how_many_rows_it_needs() -> None:
    with pytest.raises(DataError, match="at least 2 training rows, got 1"):
        Mahalanobis().fit(np.ones((1, 4)))


def test_mahalanobis_survives_constant_columns() -> None:
    x = np.c_[np.random.default_rng(0).normal(size=(30, 2)), np.ones(30)]
    scores = Mahalanobis().fit(x).score(x + 0.5).sample
    assert np.all(np.isfinite(scores))


# -- 6. saved state is checked at load -------------------------------------------------------
def test_an_emptied_arrays_file_fails_at_load_naming_folder_and_attribute(tmp_path) -> None:
    from safetensors.numpy import save_file

    folder = KNN().fit(np.random.default_rng(0).normal(size=(20, 3))).save(tmp_path / "model")
    save_file({}, str(folder / "arrays.safetensors"))
    for loader in (Detector.load, KNN.load):
        with pytest.raises(DataError) as info:
            loader(folder)
        text = str(info.value)
        assert str(folder) in text and "'train_'" in text and "re-save the model" in text


def test_old_saves_without_a_key_list_are_checked_against_declared_state(tmp_path) -> None:
    import json

    from safetensors.numpy import save_file

    folder = KNN().fit(np.random.default_rng(0).normal(size=(20, 3))).save(tmp_path / "model")
    header = json.loads((folder / "omniad.json").read_text())
    del header["state_keys"]
    (folder / "omniad.json").write_text(json.dumps(header))
    assert KNN.load(folder).score(np.zeros((2, 3))).sample.shape == (2,)
    save_file({}, str(folder / "arrays.safetensors"))
    with pytest.raises(DataError, match="lacks 'train_'"):
        KNN.load(folder)



SAMPLE_KINDS = """
from omniad import hookimpl

@hookimpl
def omniad_register_datasets(registry):
    for kind in ("frames", "features"):
        registry.add(id=f"fakevid.{kind}_data", target="omniad.builtins.tabular_data:Blobs", modality="video",
                     sample_kind=kind, summary=f"videos as {kind}")

@hookimpl
def omniad_register_detectors(registry):
    for kind in ("frames", "features", None):
        registry.add(id=f"fakevid.{kind or 'either'}_model", target="omniad.builtins.tabular_detectors:KNN",
                     modality="video", sample_kind=kind, summary=f"reads {kind or 'either kind'}")
"""


def test_modality_pairing_matches_the_kind_of_sample(make_plugin) -> None:
    make_plugin("fakevid", SAMPLE_KINDS)
    ids = ["fakevid.frames_model", "fakevid.features_model", "fakevid.either_model"]
    data = {"detectors": [{"id": i} for i in ids],
            "datasets": [{"id": "fakevid.frames_data"}, {"id": "fakevid.features_data"}], "metrics": ["core.auroc"]}
    pairs = {(j.detector.id, j.dataset.id) for j in plan(parse_config(data), get_registry())}
    assert pairs == {
        ("fakevid.frames_model", "fakevid.frames_data"), ("fakevid.features_model", "fakevid.features_data"),
        ("fakevid.either_model", "fakevid.frames_data"), ("fakevid.either_model", "fakevid.features_data"),
    }
    assert len(plan(parse_config({**data, "pairing": "all"}), get_registry())) == 6
