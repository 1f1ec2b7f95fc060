"""Video datasets: conformance of every id on tiny generated folders; loaders agree with the generator."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from omniad.plugins import get_registry
from omniad.testing import DatasetConformance
from omniad_video.datasets.generator import write_benchmark
from omniad_video.datasets.synthetic import generate_video

_TMP = Path(tempfile.mkdtemp(prefix="omniad-video-datasets-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)
SMALL = {"n_train": 2, "n_test_normal": 1, "n_test_per_anomaly": 1, "n_frames": 16, "size": 32, "seed": 3}
UCSD_ROOT, UCSD_LABELS = write_benchmark(_TMP / "ucsd", "ucsd", SMALL)
ST_ROOT, ST_LABELS = write_benchmark(_TMP / "st", "shanghaitech", SMALL)
FILES_ROOT, FILES_LABELS = write_benchmark(_TMP / "files", "files", SMALL)


def load(dataset_id: str, **params: object):
    return get_registry().get("dataset", dataset_id).create(params).load()


class TestSyntheticConformance(DatasetConformance):
    dataset_id = "video.synthetic"
    params: ClassVar = SMALL


class TestUCSDConformance(DatasetConformance):
    dataset_id = "video.ucsd"
    params: ClassVar = {"root": str(UCSD_ROOT), "subset": "ped2"}


class TestShanghaiTechConformance(DatasetConformance):
    dataset_id = "video.shanghaitech"
    params: ClassVar = {"root": str(ST_ROOT)}


class TestAvenueConformance(DatasetConformance):
    dataset_id = "video.avenue"
    params: ClassVar = {"root": str(ST_ROOT)}


class TestFilesConformance(DatasetConformance):
    dataset_id = "video.files"
    params: ClassVar = {"root": str(FILES_ROOT), "labels": str(FILES_ROOT / "labels.csv")}


@pytest.mark.parametrize("dataset_id,params,labels", [
    ("video.ucsd", {"root": str(UCSD_ROOT)}, UCSD_LABELS),
    ("video.shanghaitech", {"root": str(ST_ROOT)}, ST_LABELS),
    ("video.avenue", {"root": str(ST_ROOT)}, ST_LABELS),
    ("video.files", {"root": str(FILES_ROOT), "labels": str(FILES_ROOT / "labels.csv")}, FILES_LABELS),
])
def test_loaders_agree_with_the_generator(dataset_id: str, params: dict, labels: list[np.ndarray]) -> None:
    (subset,) = load(dataset_id, **params)
    assert len(subset.train.samples) == SMALL["n_train"]
    assert len(subset.test.targets) == len(labels)
    for got, want in zip(subset.test.targets, labels, strict=True):
        np.testing.assert_array_equal(got, want)
    assert all(v.frames.shape == (16, 32, 32, 3) for v in subset.test.samples)


def test_synthetic_targets_match_generate_video() -> None:
    (subset,) = load("video.synthetic", **SMALL)
    assert subset.test.meta["kinds"] == ["good", "speed", "direction", "object"]
    for y in subset.test.targets[1:]:
        assert 0 < y.sum() < len(y) and y[-1] in (0, 1)
    assert subset.test.targets[0].sum() == 0


def test_files_stride_spreads_to_every_frame() -> None:
    (subset,) = load("video.files", root=str(FILES_ROOT), labels=str(FILES_ROOT / "labels.csv"), stride=3)
    v = subset.test.samples[0]
    np.testing.assert_array_equal(v.frame_index, np.arange(0, 16, 3))
    assert v.n_frames == 16 and subset.test.targets[0].shape == (16,)


def test_generator_anomalies_differ_from_normal_after_onset() -> None:
    normal, y0 = generate_video(np.random.default_rng(5), n_frames=30, size=32)
    assert y0.sum() == 0
    for kind in ("speed", "direction", "object"):
        frames, y = generate_video(np.random.default_rng(5), n_frames=30, size=32, anomaly=kind)
        onset = int(np.flatnonzero(y)[0])
        assert 10 <= onset < 20
        np.testing.assert_array_equal(frames[:onset], normal[:onset])  # same seed: identical before onset
        assert not np.array_equal(frames[onset:], normal[onset:])


def test_render_examples_writes_score_curves(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from omniad.scores import Scores

    ds = get_registry().get("dataset", "video.synthetic").create(SMALL)
    (subset,) = ds.load()
    local = [y.astype(float) + 0.1 * np.arange(len(y)) / len(y) for y in subset.test.targets]
    scores = Scores(sample=np.array([s.max() for s in local]), local=local)
    paths = ds.render_examples(subset, scores, tmp_path, max_examples=3)
    assert len(paths) == 3 and all(p.is_file() and p.stat().st_size > 1000 for p in paths)


def test_render_examples_lays_the_heat_map_over_the_thumbnails_only(tmp_path: Path) -> None:
    """The same scores drawn with and without a heat map differ in the thumbnail row, not in the curve."""
    pytest.importorskip("matplotlib")
    from matplotlib.image import imread

    from omniad.scores import Scores
    from omniad_video.detectors.frame_base import HEAT, HEAT_EXTENT

    ds = get_registry().get("dataset", "video.synthetic").create(SMALL)
    (subset,) = ds.load()
    local = [y.astype(float) + 0.1 * np.arange(len(y)) / len(y) for y in subset.test.targets]
    plain = Scores(sample=np.array([s.max() for s in local]), local=local)
    heat, extent = [], []
    for video in subset.test.samples:
        maps = np.zeros((len(video.frames), 4, 4), np.float32)
        maps[:, 0, 0] = 1.0  # one hot cell in the top-left corner of every frame
        heat.append(maps)
        extent.append(np.array(video.frames.shape[1:3]))
    hot = Scores(sample=plain.sample, local=local, extras={HEAT: heat, HEAT_EXTENT: extent})
    (a,) = ds.render_examples(subset, plain, tmp_path / "plain", max_examples=1)
    (b,) = ds.render_examples(subset, hot, tmp_path / "hot", max_examples=1)
    pa, pb = imread(a), imread(b)
    assert pa.shape == pb.shape
    rows = np.flatnonzero(np.abs(pa - pb).max(axis=(1, 2)) > 0.1)
    assert rows.size > 0 and rows.min() > 0.5 * pa.shape[0], rows  # the curve takes the top half of the figure
    # a map of the wrong length is not drawn (the thumbnails stay plain)
    bad = Scores(sample=plain.sample, local=local, extras={HEAT: [m[:1] for m in heat], HEAT_EXTENT: extent})
    (c,) = ds.render_examples(subset, bad, tmp_path / "bad", max_examples=1)
    np.testing.assert_array_equal(imread(c), pa)
