"""ECOD and COPOD score against the training distribution, never against the test batch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import omniad
from omniad.metrics import roc_auc
from omniad_pyod.ecdf import skewness_sign

IDS = ["pyod.ecod", "pyod.copod"]
PYOD = {"pyod.ecod": "pyod.models.ecod:ECOD", "pyod.copod": "pyod.models.copod:COPOD"}


def skewed_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Clearly skewed features (both signs), so one added sample cannot flip a skewness sign."""
    rng = np.random.default_rng(seed)
    train = np.column_stack([
        rng.lognormal(size=300), -rng.lognormal(size=300), rng.exponential(2.0, size=300), rng.gamma(2.0, size=300)
    ])
    test = np.vstack([train[:20] + rng.normal(0, 0.3, size=(20, 4)), train[20:30] * 3.0])
    test[-1] = [0.0, 0.0, 0.0, 0.0]  # ties nothing; sits at the lower edge of every column
    return train, test


def fitted(detector_id: str, train: np.ndarray) -> omniad.Detector:
    return omniad.create_detector(detector_id, device="cpu").fit(train)


@pytest.mark.parametrize("detector_id", IDS)
def test_matches_pyod_scoring_one_sample_at_a_time(detector_id: str) -> None:
    from omniad.registry import import_target

    train, test = skewed_data()
    pyod_model = import_target(PYOD[detector_id], what=detector_id)().fit(train)
    for x in test:  # precondition of exact equality: PyOD's skewness of train + x has our signs
        assert np.array_equal(skewness_sign(np.vstack([train, x])), skewness_sign(train))
    one_at_a_time = np.array([pyod_model.decision_function(x[None, :])[0] for x in test])
    np.testing.assert_allclose(fitted(detector_id, train).score(test).sample, one_at_a_time, rtol=1e-12)


@pytest.mark.parametrize("detector_id", IDS)
def test_a_score_does_not_depend_on_the_rest_of_the_batch(detector_id: str) -> None:
    train, test = skewed_data()
    det = fitted(detector_id, train)
    batch = det.score(test).sample
    alone = np.array([det.score(test[i : i + 1]).sample[0] for i in range(len(test))])
    np.testing.assert_array_equal(alone, batch)
    crowd = np.vstack([test[:1], np.repeat(test[-5:], 40, axis=0)])  # one sample among 200 odd ones
    assert det.score(crowd).sample[0] == batch[0]


@pytest.mark.parametrize("detector_id", IDS)
def test_a_batch_dominated_by_similar_anomalies_stays_detectable(detector_id: str) -> None:
    """The case batch re-fitting breaks: most of a large batch is one cluster of anomalies.

    With PyOD's batch scoring this data gives AUROC 0.03 (ECOD) and 0.00 (COPOD): the
    anomalies dominate the re-fitted ECDFs and flip the skewness, so normal samples look odd.
    """
    rng = np.random.default_rng(1)
    train = rng.normal(size=(100, 20))
    test = np.vstack([rng.normal(size=(200, 20)), 1.5 + rng.normal(0, 0.2, size=(400, 20))])
    labels = np.r_[np.zeros(200), np.ones(400)]
    assert roc_auc(labels, fitted(detector_id, train).score(test).sample) > 0.99


def test_ties_and_out_of_range_values_follow_the_ecdf_definition() -> None:
    """One feature, train 1..4: hand-worked tail counts including ties and both edges."""
    det = fitted("pyod.ecod", np.array([[1.0], [2.0], [2.0], [4.0]]))
    # x=2: 3 train values <= 2 and 3 >= 2 -> both tails (3+1)/5; the training skew is
    # positive, so ECOD takes max(left, right, right) = -log(4/5).
    # x=0: 0 <= 0 -> left (0+1)/5; 4 >= 0 -> right 1 -> -log(1/5).
    # x=9: left 1, right (0+1)/5 -> -log(1/5).
    np.testing.assert_allclose(det.score(np.array([[2.0], [0.0], [9.0]])).sample, -np.log([4 / 5, 1 / 5, 1 / 5]))


def test_skewness_sign_of_constant_and_symmetric_columns() -> None:
    x = np.column_stack([np.ones(5), [-2.0, -1, 0, 1, 2], [0.0, 0, 0, 0, 10], [0.0, 0, 0, 0, -10]])
    np.testing.assert_array_equal(skewness_sign(x), [0, 0, 1, -1])


def test_constant_training_feature_gives_finite_scores() -> None:
    train = np.column_stack([np.full(50, 3.0), np.arange(50.0)])
    scores = fitted("pyod.ecod", train).score(np.array([[3.0, 10.0], [4.0, 10.0]])).sample
    assert np.all(np.isfinite(scores)) and scores[1] > scores[0]


@pytest.mark.parametrize(
    ("entry", "edit", "complaint"),
    [
        ("sorted_train_", lambda a: a[::-1], "unsorted columns"),  # searchsorted would miscount silently
        ("skew_sign_", lambda a: a * 5, "other than -1, 0 and 1"),
    ],
)
def test_edited_state_fails_at_load(
    tmp_path: Path, entry: str, edit: Callable[[np.ndarray], np.ndarray], complaint: str
) -> None:
    from safetensors.numpy import load_file, save_file

    train, _ = skewed_data()
    folder = fitted("pyod.ecod", train).save(tmp_path / "m")
    arrays = load_file(str(folder / "arrays.safetensors"))
    arrays[entry] = np.ascontiguousarray(edit(arrays[entry]))
    save_file(arrays, str(folder / "arrays.safetensors"))
    with pytest.raises(omniad.DataError, match=complaint):
        omniad.load_detector(str(folder))
