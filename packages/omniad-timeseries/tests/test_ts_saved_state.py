"""Saved time-series models are checked at load: the cases the conformance kit's generic edits miss.

The kit (``test_tampered_state_fails_at_load`` in every conformance class) edits one entry
at a time on a model fitted on ordinary data. Here: models fitted on constant training data
(no model arrays at all, or some channels left out of the model), edits that keep every
shape but break a relation between entries (Sub-PCA's kept columns, HBOS bin edges, the
in-sample scores of the training series, the matrix profile's training series count) and
ensemble members whose own state was edited.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

import omniad
from omniad.detector import Detector
from omniad.errors import DataError
from omniad.testing.detector import tampering_problems

WINDOW = 10
LENGTH = 200


def sine(seed: int, length: int = LENGTH) -> np.ndarray:
    t = np.arange(length)
    return np.sin(2 * np.pi * t / WINDOW) + np.random.default_rng(seed).normal(0, 0.05, length)


def fitted(detector_id: str, train: list[np.ndarray], **params: Any) -> Detector:
    det = omniad.create_detector(detector_id, {"window": WINDOW, **params}, device="cpu", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the constant-training warning is tested in test_ts_constant_training
        return det.fit(train)


def edit(folder: Path, change: Any) -> None:
    """Apply ``change(arrays, plain)`` to a saved folder in place."""
    arrays = load_file(str(folder / "arrays.safetensors"))
    plain = json.loads((folder / "state.json").read_text())
    change(arrays, plain)
    save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(folder / "arrays.safetensors"))
    (folder / "state.json").write_text(json.dumps(plain))


WINDOW_MODELS = [
    ("timeseries.sub_pca", {}),
    ("timeseries.iforest", {"n_estimators": 10}),
    ("timeseries.lof", {"n_neighbors": 5}),
    ("timeseries.sub_knn", {"n_neighbors": 5}),
    ("timeseries.sub_hbos", {}),
    ("timeseries.sub_mcd", {}),
    ("timeseries.kmeansad", {"n_clusters": 3}),
]
CONSTANT_TRAINING = {
    "all channels constant": [np.full((LENGTH, 2), 2.0)],
    "one channel constant": [np.stack([sine(0), np.full(LENGTH, 1.0)], axis=1)],
}


@pytest.mark.parametrize("training", list(CONSTANT_TRAINING))
@pytest.mark.parametrize(("detector_id", "params"), WINDOW_MODELS, ids=[d for d, _ in WINDOW_MODELS])
def test_models_fitted_on_constant_channels_refuse_edited_folders(detector_id, params, training, tmp_path) -> None:
    det = fitted(detector_id, CONSTANT_TRAINING[training], **params)
    state = det.get_state()
    if training == "all channels constant":  # no model: only the window, mask, values and weight
        assert not set(det.model_state) & set(state)
    probe = [np.stack([sine(1), np.full(LENGTH, 1.5)], axis=1)]
    assert tampering_problems(det, probe, tmp_path) == []


@pytest.mark.parametrize(("detector_id", "params"), WINDOW_MODELS, ids=[d for d, _ in WINDOW_MODELS])
def test_a_mask_that_no_longer_matches_the_model_fails_at_load(detector_id, params, tmp_path) -> None:
    """Marking a modelled channel constant (or the reverse) changes the model width; load names it."""
    det = fitted(detector_id, CONSTANT_TRAINING["one channel constant"], **params)
    folder = det.save(tmp_path / "m")
    edit(folder, lambda a, p: a.__setitem__("constant_", np.array([0, 0], dtype=np.int8)))
    with pytest.raises(DataError, match=rf"{folder}.*(wide|lacks)"):
        Detector.load(folder)


def test_all_constant_model_with_the_mask_cleared_fails_at_load(tmp_path) -> None:
    det = fitted("timeseries.sub_pca", CONSTANT_TRAINING["all channels constant"])
    folder = det.save(tmp_path / "m")
    edit(folder, lambda a, p: a.__setitem__("constant_", np.array([1, 0], dtype=np.int8)))
    with pytest.raises(DataError, match=r"lacks \['kept_', 'components_', 'weights_'"):
        Detector.load(folder)


def test_constant_mask_holds_flags(tmp_path) -> None:
    folder = fitted("timeseries.sub_knn", CONSTANT_TRAINING["one channel constant"]).save(tmp_path / "m")
    edit(folder, lambda a, p: a.__setitem__("constant_", np.array([0, 3], dtype=np.int8)))
    with pytest.raises(DataError, match="0/1 flags"):
        Detector.load(folder)


def test_in_sample_scores_must_match_their_keys_and_the_series(tmp_path) -> None:
    train = sine(0)
    det = fitted("timeseries.sub_knn", [train], n_neighbors=5)
    folder = det.save(tmp_path / "m")
    assert "in_sample.0" in load_file(str(folder / "arrays.safetensors"))

    lost = tmp_path / "lost"
    lost.mkdir()
    for f in folder.iterdir():
        (lost / f.name).write_bytes(f.read_bytes())
    edit(lost, lambda a, p: p.__setitem__("in_sample_keys_", p["in_sample_keys_"] * 2))
    with pytest.raises(DataError, match=r"says 2 \(in_sample_keys_\) but holds 1"):
        Detector.load(lost)

    # one window more than the training series has: loads (the length is not saved), refused at score
    edit(folder, lambda a, p: a.__setitem__("in_sample.0", np.r_[a["in_sample.0"], 0.0]))
    loaded = Detector.load(folder)
    with pytest.raises(DataError, match="in-sample scores of this training series hold 192 windows, not 191"):
        loaded.score([train])
    assert np.isfinite(loaded.score([sine(1)]).sample).all()  # other series are scored as new data


def test_sub_pca_components_must_match_the_kept_columns(tmp_path) -> None:
    folder = fitted("timeseries.sub_pca", [sine(0)]).save(tmp_path / "m")
    edit(folder, lambda a, p: a.__setitem__("components_", np.ascontiguousarray(a["components_"][:, :-1])))
    with pytest.raises(DataError, match="'components_' has 9 columns but 'kept_' keeps 10"):
        Detector.load(folder)


def test_sub_pca_weights_must_be_positive(tmp_path) -> None:
    folder = fitted("timeseries.sub_pca", [sine(0)]).save(tmp_path / "m")
    edit(folder, lambda a, p: a.__setitem__("weights_", np.zeros_like(a["weights_"])))
    with pytest.raises(DataError, match="'weights_' must be positive"):
        Detector.load(folder)


@pytest.mark.parametrize(("change", "message"), [
    (lambda a: a.__setitem__("edges_", np.ascontiguousarray(a["edges_"][::-1])), "increasing"),
    (lambda a: a.__setitem__("edges_", np.ascontiguousarray(a["edges_"][:-1])), "not n_bins \\+ 1 = 11"),
    (lambda a: a.__setitem__("hist_", -a["hist_"]), "negative densities"),
])
def test_sub_hbos_histograms_are_checked(change, message, tmp_path) -> None:
    folder = fitted("timeseries.sub_hbos", [sine(0)]).save(tmp_path / "m")
    edit(folder, lambda a, p: change(a))
    with pytest.raises(DataError, match=message):
        Detector.load(folder)


def test_window_must_equal_the_window_parameter(tmp_path) -> None:
    folder = fitted("timeseries.sub_knn", [sine(0)], n_neighbors=5).save(tmp_path / "m")
    edit(folder, lambda a, p: p.__setitem__("window_", WINDOW + 1))
    with pytest.raises(DataError, match="'window_' .*11 but params.window is 10"):
        Detector.load(folder)


def test_matrix_profile_training_series_are_counted(tmp_path) -> None:
    det = omniad.create_detector("timeseries.matrix_profile", {"window": WINDOW, "reference": "train"}).fit(
        [sine(0), sine(2)])
    folder = det.save(tmp_path / "m")
    edit(folder, lambda a, p: p.__setitem__("n_train_", 3))
    with pytest.raises(DataError, match=r"says 3 \(n_train_\) but holds 2 'train\.\*' arrays"):
        Detector.load(folder)


def test_matrix_profile_train_without_training_series_fails_at_load(tmp_path) -> None:
    det = omniad.create_detector("timeseries.matrix_profile", {"window": WINDOW, "reference": "train"}).fit([sine(0)])
    folder = det.save(tmp_path / "m")
    edit(folder, lambda a, p: (p.pop("n_train_"), a.pop("train.0")))
    header = json.loads((folder / "omniad.json").read_text())
    header["state_keys"] = ["n_channels_"]
    (folder / "omniad.json").write_text(json.dumps(header))
    with pytest.raises(DataError, match="reference='train' but the saved state has no training series"):
        Detector.load(folder)


ENSEMBLE = {"members": [{"id": "timeseries.poly", "params": {"window": WINDOW}},
                        {"id": "timeseries.sub_knn", "params": {"window": WINDOW, "n_neighbors": 5}}]}


def test_ensemble_members_are_checked_against_their_own_declarations(tmp_path) -> None:
    det = omniad.create_detector("timeseries.ensemble", ENSEMBLE, device="cpu").fit([sine(0)])
    folder = det.save(tmp_path / "m")
    arrays = load_file(str(folder / "arrays.safetensors"))
    assert "members.1.train_windows_" in arrays
    edit(folder, lambda a, p: a.__setitem__("members.1.train_windows_",
                                            np.ascontiguousarray(a["members.1.train_windows_"][:, :-1])))
    with pytest.raises(DataError, match=rf"{folder}.*member 1 \(timeseries.sub_knn\).*wide"):
        Detector.load(folder)


def test_ensemble_entries_must_name_a_member(tmp_path) -> None:
    det = omniad.create_detector("timeseries.ensemble", ENSEMBLE, device="cpu").fit([sine(0)])
    folder = det.save(tmp_path / "m")
    edit(folder, lambda a, p: p.__setitem__("members.7.n_channels_", 1))
    header = json.loads((folder / "omniad.json").read_text())
    header["state_keys"].append("members.7.n_channels_")
    (folder / "omniad.json").write_text(json.dumps(header))
    with pytest.raises(DataError, match="'members.7.n_channels_' names no member of this ensemble's 2"):
        Detector.load(folder)


def test_ensemble_tampering_reaches_member_scalars(tmp_path) -> None:
    det = omniad.create_detector("timeseries.ensemble", ENSEMBLE, device="cpu").fit([sine(0)])
    assert tampering_problems(det, [sine(1)], tmp_path, limit=60) == []
