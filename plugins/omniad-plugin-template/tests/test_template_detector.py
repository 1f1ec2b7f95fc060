"""The robust z-score detector: the conformance battery plus the numbers it promises."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

import omniad
from omniad.errors import ConfigError, DataError
from omniad.testing import DetectorConformance
from omniad_plugin_template.detector import MAD_TO_STD, MEAN_AD_TO_STD
from omniad_plugin_template.plugin import PREFIX

DETECTOR = f"{PREFIX}.robust_zscore"


class TestRobustZScoreConformance(DetectorConformance):
    detector_id = DETECTOR
    dataset_id = f"{PREFIX}.sparse_shift"
    dataset_params: ClassVar[dict[str, Any]] = {"n_train": 120, "n_test_normal": 60, "n_test_anomalous": 12, "shifts": [6.0]}


class TestRobustZScoreRmsConformance(TestRobustZScoreConformance):
    params: ClassVar[dict[str, Any]] = {"aggregate": "rms"}


# Column 0: one wild training value that a mean/std detector would absorb (median 3, MAD 1).
# Column 1: binary, MAD 0 but mean absolute deviation 0.2. Column 2: constant.
TRAIN = np.array([[1, 0, 5], [2, 0, 5], [3, 0, 5], [4, 0, 5], [100, 1, 5]], dtype=float)


def fitted(**params: object) -> omniad.Detector:
    return omniad.create_detector(DETECTOR, params, device="cpu").fit(TRAIN)


def test_hand_worked_robust_scales() -> None:
    det = fitted()
    np.testing.assert_allclose(det.median_, [3, 0, 5])
    np.testing.assert_allclose(det.scale_, [MAD_TO_STD * 1, MEAN_AD_TO_STD * 0.2, 1e-9])


def test_hand_worked_scores_and_feature_extras() -> None:
    scores = fitted().score(np.array([[6, 0, 5], [3, 1, 5]]))
    z0 = 3 / MAD_TO_STD  # 2.0235: three MADs from the median in column 0 only
    z1 = 1 / (MEAN_AD_TO_STD * 0.2)  # 3.9894: the rare binary value
    np.testing.assert_allclose(scores.sample, [z0, z1])
    np.testing.assert_allclose(scores.extras["feature_z"][0], [z0, 0, 0])
    np.testing.assert_allclose(scores.extras["feature_z"][1], [0, z1, 0])


@pytest.mark.parametrize(
    ("aggregate", "expected"),
    [("max", 4.0), ("mean", 7 / 3), ("rms", np.sqrt((9 + 16 + 0) / 3))],
)
def test_aggregates(aggregate: str, expected: float) -> None:
    train = np.array([[-1.0, -1.0, -1.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])  # median 0, MAD 1
    det = omniad.create_detector(DETECTOR, {"aggregate": aggregate}, device="cpu").fit(train)
    sample = np.array([[3 * MAD_TO_STD, -4 * MAD_TO_STD, 0.0]])  # z = 3, 4, 0
    assert det.score(sample).sample[0] == pytest.approx(expected)


def test_constant_feature_change_dominates_without_overflow() -> None:
    scores = fitted().score(np.array([[3, 0, 5.001], [3, 0, 5]])).sample
    assert scores[0] == pytest.approx(0.001 / 1e-9, rel=1e-6)
    assert scores[1] == 0.0


def test_robust_to_anomalies_in_training_data() -> None:
    """Ten percent wild training values barely move median and MAD, unlike mean and std."""
    rng = np.random.default_rng(0)
    train = rng.normal(size=(300, 4))
    train[:30] += 50.0
    det = omniad.create_detector(DETECTOR, device="cpu").fit(train)
    assert np.all(np.abs(det.median_) < 0.3)
    assert np.all(det.scale_ < 1.5)
    assert det.score(np.array([[6.0, 0, 0, 0]])).sample[0] > 4


def test_rejects_wrong_feature_count() -> None:
    with pytest.raises(DataError, match="fitted on 3"):
        fitted().score(np.zeros((2, 4)))


def test_rejects_bad_parameters() -> None:
    with pytest.raises(ConfigError, match="aggregate"):
        omniad.create_detector(DETECTOR, {"aggregate": "median"})
    with pytest.raises(ConfigError, match="min_scale"):
        omniad.create_detector(DETECTOR, {"min_scale": 0})


@pytest.mark.parametrize(
    ("edit", "complaint"),
    [
        ({"median_": np.zeros(4)}, "says d = "),  # state_spec: one length d for both
        ({"scale_": np.zeros(3)}, "below min_scale"),  # check_state
    ],
)
def test_edited_model_folder_fails_at_load(tmp_path: Path, edit: dict[str, np.ndarray], complaint: str) -> None:
    from safetensors.numpy import load_file, save_file

    folder = fitted().save(tmp_path / "model")
    arrays = {**load_file(str(folder / "arrays.safetensors")), **edit}
    save_file(arrays, str(folder / "arrays.safetensors"))
    with pytest.raises(DataError, match=complaint):
        omniad.load_detector(str(folder))
