"""AUPRO: hand-worked cases, an exact brute-force sweep and scikit-learn's ROC as references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from sklearn.metrics import roc_auc_score, roc_curve

from omniad import DataError, Scores, Split
from omniad.testing import MetricCase, MetricConformance
from omniad_vision.metrics.aupro import area_up_to, aupro, pro_curve

# 2x4 image: region A = (0,0) (1 px), region B = (1,2),(1,3) (2 px), 5 background pixels.
MASK = np.array([[1, 0, 0, 0], [0, 0, 1, 1]], dtype=np.uint8)
MAP_DISTINCT = np.array([[0.9, 0.7, 0.5, 0.2], [0.1, 0.6, 0.8, 0.3]])
# same but B's second pixel ties with the background pixel scored 0.5
MAP_TIED = np.array([[0.9, 0.7, 0.5, 0.2], [0.1, 0.6, 0.8, 0.5]])


def split_of(masks: list[np.ndarray]) -> Split:
    labels = [int(np.any(m)) for m in masks]
    return Split(samples=[np.zeros((*m.shape, 3), np.uint8) for m in masks], labels=labels, targets=masks)


def scores_of(maps: list[np.ndarray]) -> Scores:
    return Scores(sample=[float(np.max(m)) for m in maps], local=maps)


def brute_force_aupro(masks: list[np.ndarray], maps: list[np.ndarray], max_fpr: float) -> float:
    """Threshold by threshold, straight from the definition (independent of pro_curve)."""
    region_masks = []
    for i, m in enumerate(masks):
        lab, n = ndimage.label(m > 0, structure=np.ones((3, 3)))
        region_masks += [(i, lab == k) for k in range(1, n + 1)]
    background = np.concatenate([(m == 0).ravel() for m in masks])
    flat = np.concatenate([s.ravel() for s in maps])
    xs, ys = [0.0], [0.0]
    for t in np.unique(flat)[::-1]:
        xs.append(float(np.sum((flat >= t) & background) / background.sum()))
        ys.append(float(np.mean([np.mean(maps[i][r] >= t) for i, r in region_masks])))
    xs, ys = np.array(xs), np.array(ys)
    grid_x = np.r_[xs[xs <= max_fpr], max_fpr]
    # linear interpolation at the limit along the (monotone) curve
    j = int(np.sum(xs <= max_fpr))
    y_lim = ys[j - 1] if j == len(xs) or xs[j - 1] == max_fpr else ys[j - 1] + (max_fpr - xs[j - 1]) / (xs[j] - xs[j - 1]) * (ys[j] - ys[j - 1])
    grid_y = np.r_[ys[xs <= max_fpr], y_lim]
    return float(np.sum(np.diff(grid_x) * (grid_y[1:] + grid_y[:-1]) / 2) / max_fpr)


@pytest.mark.parametrize(
    ("score_map", "max_fpr", "expected"),
    [
        (MAP_DISTINCT, 0.3, 0.75),  # PRO 0.75 from FPR 0 to 0.6
        (MAP_DISTINCT, 1.0, 0.85),  # 0.6 * 0.75 + 0.4 * 1
        (MAP_TIED, 0.5, 0.7625),  # (0.4 * 0.75 + 0.1 * (0.75 + 0.875) / 2) / 0.5
    ],
)
def test_hand_worked(score_map: np.ndarray, max_fpr: float, expected: float) -> None:
    assert aupro([MASK], [score_map], max_fpr) == pytest.approx(expected, abs=1e-12)


def test_curve_points_of_tied_case() -> None:
    fpr, pro, _ = pro_curve([MASK], [MAP_TIED])
    np.testing.assert_allclose(fpr, [0, 0, 0, 0.2, 0.4, 0.6, 0.8, 1.0])
    np.testing.assert_allclose(pro, [0, 0.5, 0.75, 0.75, 0.75, 1.0, 1.0, 1.0])


def test_each_region_counts_once() -> None:
    """A big detected region cannot hide a missed small one (pixel AUROC would)."""
    mask = np.zeros((20, 20), np.uint8)
    mask[:10, :10] = 1  # 100 px, found
    mask[15, 15] = 1  # 1 px, missed
    score = np.where(mask > 0, 1.0, 0.5)
    score[15, 15] = 0.0
    assert aupro([mask], [score], 0.3) == pytest.approx(0.5)
    y = mask.ravel()
    assert roc_auc_score(y, score.ravel()) > 0.98


def test_normal_images_add_false_positives() -> None:
    normal = np.zeros_like(MASK)
    hot = np.full(MASK.shape, 0.95)  # beats every pixel of the anomalous image
    assert aupro([MASK, normal], [MAP_DISTINCT, hot], 0.3) < aupro([MASK], [MAP_DISTINCT], 0.3)


def test_single_region_equals_roc_area() -> None:
    """With one region PRO is the TPR, so the curve is scikit-learn's ROC curve."""
    rng = np.random.default_rng(0)
    mask = np.zeros((24, 24), np.uint8)
    mask[5:12, 8:15] = 1
    score = rng.random((24, 24)) + mask * 0.6
    score = np.round(score, 2)  # ties
    assert aupro([mask], [score], 1.0) == pytest.approx(roc_auc_score(mask.ravel(), score.ravel()), abs=1e-12)
    fpr, tpr, _ = roc_curve(mask.ravel(), score.ravel(), drop_intermediate=False)
    for limit in (0.05, 0.3, 0.77):
        assert aupro([mask], [score], limit) == pytest.approx(area_up_to(fpr, tpr, limit) / limit, abs=1e-12)
        ref = np.trapezoid(np.interp(np.r_[fpr[fpr <= limit], limit], fpr, tpr), np.r_[fpr[fpr <= limit], limit])
        assert aupro([mask], [score], limit) == pytest.approx(ref / limit, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_brute_force_sweep(seed: int) -> None:
    rng = np.random.default_rng(seed)
    masks, maps = [], []
    for i in range(4):
        m = (ndimage.gaussian_filter(rng.random((16, 16)), 2) > 0.55).astype(np.uint8) if i < 3 else np.zeros((16, 16), np.uint8)
        masks.append(m)
        maps.append(np.round(rng.random((16, 16)) + 0.4 * m, 1))  # coarse values: many ties
    assert sum(ndimage.label(m, np.ones((3, 3)))[1] for m in masks) >= 2
    for limit in (0.1, 0.3, 1.0):
        assert aupro(masks, maps, limit) == pytest.approx(brute_force_aupro(masks, maps, limit), abs=1e-12)


def test_diagonal_pixels_are_one_region() -> None:
    mask = np.eye(4, dtype=np.uint8)
    score = np.where(mask > 0, 1.0, 0.0)
    score[3, 3] = -1.0  # one quarter of the single 8-connected region scored below every normal pixel
    assert aupro([mask], [score], 0.3) == pytest.approx(0.75)


def test_errors() -> None:
    with pytest.raises(DataError, match="no anomalous pixels"):
        aupro([np.zeros((4, 4))], [np.zeros((4, 4))])
    with pytest.raises(DataError, match="every pixel is anomalous"):
        aupro([np.ones((4, 4))], [np.zeros((4, 4))])
    with pytest.raises(DataError, match="max_fpr"):
        aupro([MASK], [MAP_DISTINCT], 0.0)
    with pytest.raises(DataError, match="shape"):
        aupro([MASK], [MAP_DISTINCT[:, :3]])


class TestAUPROConformance(MetricConformance):
    metric_id = "vision.aupro"

    def cases(self) -> list[MetricCase]:
        return [
            MetricCase(split_of([MASK]), scores_of([MAP_TIED]), 0.7625, params={"max_fpr": 0.5}),
            MetricCase(split_of([MASK]), scores_of([MAP_DISTINCT]), 0.75),
            MetricCase(split_of([MASK]), scores_of([MAP_DISTINCT]), 0.85, params={"max_fpr": 1.0}),
        ]

    def test_detector_without_maps_is_a_clear_error(self) -> None:
        with pytest.raises(DataError, match="localization scores"):
            self.create()(split_of([MASK]), Scores(sample=[1.0]))
