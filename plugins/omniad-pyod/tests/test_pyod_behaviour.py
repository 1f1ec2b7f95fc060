"""What the adapter adds to PyOD: accuracy parity, seeds, safe reloads, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import omniad
from omniad.errors import ConfigError, DataError
from omniad.metrics import roc_auc


def blobs(**params: object) -> omniad.Subset:
    return omniad.create_dataset("core.blobs", params).load()[0]


def small() -> tuple[np.ndarray, np.ndarray]:
    sub = blobs(n_train=60, n_test_normal=30, n_test_anomalous=6, n_features=4)
    return np.asarray(sub.train.samples), np.asarray(sub.test.samples)


def test_knn_on_core_blobs() -> None:
    """Default pyod.knn clears 0.95 AUROC on the core's demo data and equals core.knn exactly."""
    sub = blobs()
    pyod_knn = omniad.create_detector("pyod.knn", device="cpu").fit(sub.train.samples)
    scores = pyod_knn.score(sub.test.samples).sample
    assert roc_auc(sub.test.labels, scores) > 0.95
    core_knn = omniad.create_detector("core.knn", device="cpu").fit(sub.train.samples)
    np.testing.assert_allclose(scores, core_knn.score(sub.test.samples).sample, rtol=1e-9, atol=1e-9)


def iforest_scores(params: dict[str, object] | None = None, seed: int | None = None) -> np.ndarray:
    train, test = small()
    det = omniad.create_detector("pyod.iforest", params, device="cpu", seed=seed).fit(train)
    return det.score(test).sample


def test_seed_sources_in_order_random_state_then_seed() -> None:
    np.testing.assert_array_equal(iforest_scores(seed=1), iforest_scores(seed=1))
    assert not np.array_equal(iforest_scores(seed=1), iforest_scores(seed=2))
    np.testing.assert_array_equal(
        iforest_scores({"random_state": 7}, seed=1), iforest_scores({"random_state": 7}, seed=2)
    )


def test_unseeded_fit_saves_its_fresh_seed(tmp_path: Path) -> None:
    train, test = small()
    det = omniad.create_detector("pyod.iforest", device="cpu").fit(train)
    other = omniad.create_detector("pyod.iforest", device="cpu").fit(train)
    assert not np.array_equal(det.score(test).sample, other.score(test).sample)
    det.save(tmp_path / "m")
    np.testing.assert_array_equal(omniad.load_detector(str(tmp_path / "m")).score(test).sample, det.score(test).sample)


def test_fit_leaves_numpys_global_generator_alone() -> None:
    train, _ = small()
    np.random.seed(5)
    expected = np.random.rand()
    np.random.seed(5)
    omniad.create_detector("pyod.iforest", device="cpu").fit(train)
    assert np.random.rand() == expected


def test_saved_model_holds_arrays_not_pickles(tmp_path: Path) -> None:
    train, _ = small()
    omniad.create_detector("pyod.lof", device="cpu", seed=0).fit(train).save(tmp_path / "m")
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert files == ["arrays.safetensors", "omniad.json", "state.json"]
    from safetensors.numpy import load_file

    arrays = load_file(str(tmp_path / "m" / "arrays.safetensors"))
    np.testing.assert_array_equal(arrays["train_"], train)


def test_reload_that_cannot_reproduce_the_model_fails(tmp_path: Path) -> None:
    from safetensors.numpy import load_file, save_file

    train, _ = small()
    omniad.create_detector("pyod.iforest", device="cpu", seed=0).fit(train).save(tmp_path / "m")
    path = tmp_path / "m" / "arrays.safetensors"
    arrays = load_file(str(path))
    arrays["train_scores_"] = arrays["train_scores_"] + 0.01  # as if fitted by another PyOD version
    save_file(arrays, str(path))
    with pytest.raises(DataError, match="did not reproduce the saved model"):
        omniad.load_detector(str(tmp_path / "m"))


def test_pyod_failure_becomes_one_line_data_error() -> None:
    train, _ = small()
    with pytest.raises(DataError) as info:
        omniad.create_detector("pyod.knn", {"n_neighbors": 100}, device="cpu").fit(train)
    message = str(info.value)
    assert "\n" not in message
    assert "PyOD KNN failed on 60 samples x 4 features" in message and "omniad show pyod.knn" in message


def test_single_feature_detector_rejects_more_features() -> None:
    train, _ = small()
    with pytest.raises(DataError, match="exactly 1 feature"):
        omniad.create_detector("pyod.mad", device="cpu").fit(train)


@pytest.mark.parametrize(
    ("detector_id", "params", "complaint"),
    [
        ("pyod.lof", {"novelty": False}, "novelty"),
        ("pyod.iforest", {"max_samples": 1.5}, "max_samples"),
        ("pyod.knn", {"contamination": 0.7}, "contamination"),
        ("pyod.knn", {"method": "max"}, "method"),
        ("pyod.ocsvm", {"gamma": "often"}, "gamma"),
        ("pyod.knn", {"n_neighbours": 3}, "unknown parameter 'n_neighbours'"),
    ],
)
def test_invalid_parameters_rejected_before_pyod(detector_id: str, params: dict[str, object], complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        omniad.create_detector(detector_id, params)


def test_transductive_detector_scores_the_batch_against_itself() -> None:
    from pyod.models.cof import COF

    train, test = small()
    det = omniad.create_detector("pyod.cof", {"n_neighbors": 10}, device="cpu").fit(train)
    np.testing.assert_allclose(det.score(test).sample, COF(n_neighbors=10).fit(test).decision_scores_)
    with pytest.raises(DataError, match="fitted on 4"):
        det.score(test[:, :3])


def edit_saved(folder: Path, arrays: dict[str, object] | None = None, plain: dict[str, object] | None = None) -> None:
    """Overwrite entries of a saved model folder, as a hand or another version could."""
    import json

    from safetensors.numpy import load_file, save_file

    saved = load_file(str(folder / "arrays.safetensors"))
    saved.update({k: np.ascontiguousarray(v(saved[k]) if callable(v) else v) for k, v in (arrays or {}).items()})
    save_file(saved, str(folder / "arrays.safetensors"))
    state = json.loads((folder / "state.json").read_text())
    state.update(plain or {})
    (folder / "state.json").write_text(json.dumps(state))


@pytest.mark.parametrize(
    ("detector_id", "params", "arrays", "plain", "complaint"),
    [
        # the declared relation of the two arrays, before PyOD refits on them
        ("pyod.knn", {}, {"train_scores_": lambda a: a[:-1]}, {}, r"'train_scores_' has shape \(59,\)"),
        # MAD's class pins the width to 1 (build_detector_class)
        ("pyod.mad", {}, {"train_": lambda a: np.hstack([a, a])}, {}, r"'train_' has shape \(60, 2\): axis 1 must be 1"),
        ("pyod.iforest", {}, {}, {"random_state_": -1}, "'random_state_' is -1, must be >= 0"),
        ("pyod.iforest", {"random_state": 7}, {}, {"random_state_": 8}, "parameters fix random_state = 7"),
        ("pyod.cof", {}, {}, {"n_features_": "4"}, "'n_features_' is '4', not an integer"),
    ],
)
def test_edited_saved_state_fails_at_load_naming_the_entry(
    tmp_path: Path, detector_id: str, params: dict[str, object], arrays: dict[str, object],
    plain: dict[str, object], complaint: str,
) -> None:
    train, _ = small()
    if detector_id == "pyod.mad":
        train = train[:, :1]
    folder = omniad.create_detector(detector_id, params, device="cpu", seed=0).fit(train).save(tmp_path / "m")
    edit_saved(folder, arrays, plain)
    with pytest.raises(DataError, match=complaint) as info:
        omniad.load_detector(str(folder))
    assert str(folder) in str(info.value)
