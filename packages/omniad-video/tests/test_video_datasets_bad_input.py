"""Bad input to the video loaders: clear DataErrors that name the offending file."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from omniad.errors import DataError
from omniad.plugins import get_registry
from omniad_video.datasets.generator import write_benchmark

SMALL = {
    "n_train": 1,
    "n_test_normal": 1,
    "n_test_per_anomaly": 1,
    "anomalies": ["speed"],
    "n_frames": 12,
    "seed": 1,
}


def load(dataset_id: str, **params: object):
    return get_registry().get("dataset", dataset_id).create(params).load()


def test_ucsd_range_beyond_the_video(tmp_path: Path) -> None:
    root, _ = write_benchmark(tmp_path, "ucsd", SMALL)
    m = root / "UCSDped2" / "Test" / "UCSDped2.m"
    m.write_text("TestVideoFile{end+1}.gt_frame = [];\nTestVideoFile{end+1}.gt_frame = [5:40];\n")
    with pytest.raises(DataError, match="Test002.*outside"):
        load("video.ucsd", root=str(root))


def test_ucsd_gt_lines_do_not_match_the_test_folders(tmp_path: Path) -> None:
    root, _ = write_benchmark(tmp_path, "ucsd", SMALL)
    m = root / "UCSDped2" / "Test" / "UCSDped2.m"
    m.write_text("TestVideoFile{end+1}.gt_frame = [5:10];\n")
    with pytest.raises(DataError, match="UCSDped2.m.*1 ground-truth entries for 2 test videos"):
        load("video.ucsd", root=str(root))


def test_ucsd_missing_m_file_and_train_folder(tmp_path: Path) -> None:
    root, _ = write_benchmark(tmp_path, "ucsd", SMALL)
    (root / "UCSDped2" / "Test" / "UCSDped2.m").unlink()
    with pytest.raises(DataError, match="UCSDped2.m.*missing"):
        load("video.ucsd", root=str(root))
    shutil.rmtree(root / "UCSDped2" / "Train")
    with pytest.raises(DataError, match="Train"):
        load("video.ucsd", root=str(root))


def test_npy_labels_of_the_wrong_length(tmp_path: Path) -> None:
    root, _ = write_benchmark(tmp_path, "shanghaitech", SMALL)
    np.save(root / "testing" / "test_frame_mask" / "01_0002.npy", np.zeros(7, np.int8))
    with pytest.raises(DataError, match="01_0002.npy: 7 frame labels but .* 12 frames"):
        load("video.shanghaitech", root=str(root))


def test_missing_mask_file_for_a_test_folder(tmp_path: Path) -> None:
    root, _ = write_benchmark(tmp_path, "shanghaitech", SMALL)
    (root / "testing" / "test_frame_mask" / "01_0001.npy").unlink()
    with pytest.raises(DataError, match="01_0001.npy.*missing"):
        load("video.avenue", root=str(root))


def test_files_event_beyond_the_video_and_unknown_video(tmp_path: Path) -> None:
    root, _ = write_benchmark(tmp_path, "files", SMALL)
    labels = root / "labels.csv"
    labels.write_text("video,start,end\ntest_001,3,99\n")
    with pytest.raises(DataError, match="labels.csv.*test_001.*outside its 12 frames"):
        load("video.files", root=str(root), labels=str(labels))
    labels.write_text("video,start,end\nno_such_video,3,5\n")
    with pytest.raises(DataError, match="no_such_video"):
        load("video.files", root=str(root), labels=str(labels))
    labels.write_text("clip,from,to\n")
    with pytest.raises(DataError, match="labels.csv.*video,start,end"):
        load("video.files", root=str(root), labels=str(labels))


def test_files_undecodable_video_named(tmp_path: Path) -> None:
    root, _ = write_benchmark(tmp_path, "files", SMALL)
    (root / "test" / "test_000.mp4").write_bytes(b"\x00" * 100)
    with pytest.raises(DataError, match="test_000.mp4"):
        load("video.files", root=str(root), labels=str(root / "labels.csv"))


def test_damaged_or_edited_mask_files_are_named_not_loaded(tmp_path: Path) -> None:
    """np.load alone read 6 of 12 labels of a mask whose shape was edited (then said '6 frame labels'),
    raised tokenize.TokenError naming nothing on a garbled header, and compared text labels raw."""
    root, _ = write_benchmark(tmp_path, "shanghaitech", SMALL)
    mask = root / "testing" / "test_frame_mask" / "01_0002.npy"
    raw = mask.read_bytes()
    mask.write_bytes(raw.replace(b"(12,)", b"( 6,)", 1))
    with pytest.raises(DataError, match=r"01_0002\.npy: the header declares shape \(6,\) .*follow it"):
        load("video.shanghaitech", root=str(root))
    mask.write_bytes(raw.replace(b"}", b" ", 1))
    with pytest.raises(DataError, match=r"01_0002\.npy: not a NumPy array file \(tokenize\.TokenError"):
        load("video.shanghaitech", root=str(root))
    np.save(mask, np.array(["1"] * 12))
    with pytest.raises(
        DataError, match=r"01_0002\.npy: holds <U1 values .*frame labels of test video 01_0002"
    ):
        load("video.shanghaitech", root=str(root))


@pytest.mark.parametrize("detector_id", ["video.frame_knn", "video.future_frame"])
def test_a_smoothing_window_without_bound_is_refused_at_create(detector_id: str) -> None:
    """``smoothing_window=10**9`` (e.g. edited into a saved model) used to allocate 7.45 GiB at score."""
    from omniad.errors import ConfigError

    with pytest.raises(ConfigError, match="smoothing_window"):
        get_registry().get("detector", detector_id).create({"smoothing_window": 10**9})
