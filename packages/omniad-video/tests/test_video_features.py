"""Feature datasets: the shared UCF-Crime sample, RTFM npy files, synthetic features, bad files."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

import omniad
from omniad.errors import ConfigError, DataError
from omniad.shared import shared_data_root
from omniad.testing import DatasetConformance
from omniad_video.datasets.features import read_annotation, read_c3d_txt
from omniad_video.samples import SegmentFeatures, segments_to_frames

UCF = shared_data_root() / "data" / "ucf_crime_c3d_sample"
needs_ucf = pytest.mark.skipif(
    not UCF.is_dir(), reason=f"{UCF} is absent (set OMNIAD_SHARED_DATA to ../shared)"
)


_TMP = Path(tempfile.mkdtemp(prefix="omniad-video-features-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)


class TestSyntheticFeatures(DatasetConformance):
    dataset_id = "video.synthetic_features"
    params = {
        "n_train_normal": 4,
        "n_train_anomalous": 4,
        "n_test_normal": 2,
        "n_test_anomalous": 2,
        "dim": 8,
    }


def _counts(tmp_path: Path) -> Path:
    """Frame counts for the pipeline check only: an ASSUMPTION (30 fps, 10% past the annotated end,
    at least 32 segments x 16 frames); the real counts come from the videos, which are not here."""
    lines = []
    for f in sorted((UCF / "features").glob("*.txt")):
        ends = [b for _, b in read_annotation(UCF / "annotations" / f"{f.stem}_C.mat")]
        lines.append(f"{f.stem} {max([512, *(int(e * 1.1) for e in ends)])}")
    path = tmp_path / "counts.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


@needs_ucf
def test_ucf_crime_sample_reads(tmp_path: Path) -> None:
    files = sorted((UCF / "features").glob("*.txt"))
    assert len(files) == 10
    assert read_c3d_txt(files[0]).shape == (32, 4096)
    assert read_annotation(UCF / "annotations" / "Explosion008_x264_C.mat") == [(1004, 1245)]
    assert read_annotation(UCF / "annotations" / "Normal_Videos_006_x264_C.mat") == []
    subsets = omniad.create_dataset("video.ucf_crime", {"frame_counts": str(_counts(tmp_path))}).load()
    assert len(subsets) == 8  # leave-one-out over the 8 anomalous videos; each trains on the other 9
    sub = subsets[0]
    assert len(sub.train) == 9 and {v.label for v in sub.train.samples} == {0, 1}
    assert sub.test.targets[0].sum() > 0


@needs_ucf
def test_ucf_crime_refuses_to_guess_frame_counts(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="hold no frame counts.*give frame_counts .* or set level='video'"):
        omniad.create_dataset("video.ucf_crime").load()
    with pytest.raises(ConfigError, match="use protocol='lists'"):
        omniad.create_dataset("video.ucf_crime", {"level": "video"}).load()
    short = tmp_path / "short.txt"
    short.write_text("\n".join(f"{f.stem} 100" for f in sorted((UCF / "features").glob("*.txt"))))
    with pytest.raises(DataError, match="annotated frames .* do not fit the video's 100 frames"):
        omniad.create_dataset("video.ucf_crime", {"frame_counts": str(short)}).load()


def test_c3d_and_annotation_errors(tmp_path: Path) -> None:
    bad = tmp_path / "v.txt"
    np.savetxt(bad, np.zeros((31, 4096)))
    with pytest.raises(DataError, match="v.txt: expected 32 segments x 4096"):
        read_c3d_txt(bad)
    with pytest.raises(DataError, match="temporal annotation is missing"):
        read_annotation(tmp_path / "nope_C.mat")
    from scipy.io import savemat

    savemat(tmp_path / "x_C.mat", {"something": np.zeros(2)})
    with pytest.raises(DataError, match="not a UCF-Crime annotation"):
        read_annotation(tmp_path / "x_C.mat")


def _rtfm(tmp_path: Path) -> dict:
    rng = np.random.default_rng(0)
    (tmp_path / "feats").mkdir()
    (tmp_path / "gt").mkdir()
    train, test = [], []
    for i in range(6):
        np.save(tmp_path / "feats" / f"tr{i}.npy", rng.normal(size=(10, 3, 8)).astype(np.float32))
        train.append(f"tr{i}.npy {i % 2}")
    for i in range(3):
        np.save(tmp_path / "feats" / f"te{i}.npy", rng.normal(size=(12, 3, 8)).astype(np.float32))
        labels = np.zeros(12 * 16)
        labels[40:80] = i > 0
        np.save(tmp_path / "gt" / f"te{i}.npy", labels)
        test.append(f"te{i}")
    (tmp_path / "train.list").write_text("\n".join(train))
    (tmp_path / "test.list").write_text("\n".join(test))
    return {
        "root": str(tmp_path / "feats"),
        "train_list": str(tmp_path / "train.list"),
        "test_list": str(tmp_path / "test.list"),
        "labels": str(tmp_path / "gt"),
    }


def test_rtfm_layout(tmp_path: Path) -> None:
    params = _rtfm(tmp_path)
    sub = omniad.create_dataset("video.rtfm", params).load()[0]
    assert sub.train.samples[0].features.shape == (10, 3, 8) and sub.train.samples[1].label == 1
    assert sub.test.targets[1].shape == (192,) and sub.test.n_anomalous == 2
    np.save(tmp_path / "gt" / "te1.npy", np.zeros(100))
    with pytest.raises(
        DataError, match="te1.npy: 100 frame labels but te1 has 12 segments x 16 = 192 frames"
    ):
        omniad.create_dataset("video.rtfm", params).load()
    (tmp_path / "train.list").write_text("tr0.npy\n")
    with pytest.raises(DataError, match="training lines need a 0/1 video label"):
        omniad.create_dataset("video.rtfm", params).load()


def test_rtfm_damaged_feature_and_label_files_are_named(tmp_path: Path) -> None:
    """np.load alone raised tokenize.TokenError naming no file, and read an edited shape in part."""
    params = _rtfm(tmp_path)
    feats = tmp_path / "feats" / "te1.npy"
    feats.write_bytes(feats.read_bytes().replace(b"}", b" ", 1))
    with pytest.raises(DataError, match=r"te1\.npy: not a NumPy array file \(tokenize\.TokenError.*np\.save"):
        omniad.create_dataset("video.rtfm", params).load()
    np.save(feats, np.ones((12, 3, 8), np.complex64))
    with pytest.raises(DataError, match=r"te1\.npy: holds complex64 values .*features of video te1"):
        omniad.create_dataset("video.rtfm", params).load()
    np.save(feats, np.zeros((12, 3, 8), np.float32))
    gt = tmp_path / "gt" / "te2.npy"
    gt.write_bytes(gt.read_bytes().replace(b"(192,)", b"( 96,)", 1))
    with pytest.raises(DataError, match=r"te2\.npy: the header declares shape \(96,\)"):
        omniad.create_dataset("video.rtfm", params).load()


def test_segment_samples() -> None:
    np.testing.assert_array_equal(segments_to_frames(np.array([1.0, 2.0, 3.0]), 7), [1, 1, 2, 2, 2, 3, 3])
    with pytest.raises(DataError, match="expected \\(segments, D\\)"):
        SegmentFeatures(features=np.zeros(5), n_frames=10)
    with pytest.raises(DataError, match="NaN/inf"):
        SegmentFeatures(features=np.full((4, 2), np.nan), n_frames=10)
    with pytest.raises(DataError, match="4 segments but only 3 frames"):
        SegmentFeatures(features=np.zeros((4, 2)), n_frames=3)


@needs_ucf
class TestUCFCrimeConformance(DatasetConformance):
    dataset_id = "video.ucf_crime"
    max_subsets = 2

    @property
    def params(self) -> dict:  # type: ignore[override]
        return {"frame_counts": str(_counts(_TMP))}


class TestRTFMConformance(DatasetConformance):
    dataset_id = "video.rtfm"

    @property
    def params(self) -> dict:  # type: ignore[override]
        folder = _TMP / "rtfm"
        if not folder.exists():
            folder.mkdir()
            self.__class__._written = _rtfm(folder)
        return self.__class__._written
