"""PyAV decoding: write->read round trip, stride / fps sampling, frame folders, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from omniad.errors import DataError
from omniad_video.datasets.synthetic import generate_video
from omniad_video.decode import read_frame_folder, read_video, write_video


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    frames, _ = generate_video(np.random.default_rng(0), n_frames=30, size=32)
    return write_video(tmp_path_factory.mktemp("v") / "clip.mp4", frames, fps=10), frames


def test_round_trip_keeps_frames(clip: tuple[Path, np.ndarray]) -> None:
    path, frames = clip
    video = read_video(path)
    assert video.frames.shape == frames.shape and video.n_frames == 30
    np.testing.assert_array_equal(video.frame_index, np.arange(30))
    assert video.fps == pytest.approx(10)
    # lossy codec: close to the original (mean error 3.6 grey levels measured with PyAV 18.1; the
    # disc moves slowly, so neighbouring frames differ by 2.3 on average and are no yardstick)
    err = np.abs(video.frames.astype(int) - frames.astype(int)).mean()
    assert err < 6, err


def test_stride_keeps_every_nth(clip: tuple[Path, np.ndarray]) -> None:
    video = read_video(clip[0], stride=4)
    np.testing.assert_array_equal(video.frame_index, np.arange(0, 30, 4))
    assert video.n_frames == 30
    assert video.to_all_frames(np.arange(8.0)).shape == (30,)


def test_fps_sampling_picks_frames_on_the_time_grid(clip: tuple[Path, np.ndarray]) -> None:
    video = read_video(clip[0], fps=5)  # 10 fps source -> every second frame
    np.testing.assert_array_equal(video.frame_index, np.arange(0, 30, 2))
    assert video.n_frames == 30


def test_max_side_and_gray(clip: tuple[Path, np.ndarray]) -> None:
    video = read_video(clip[0], max_side=16, gray=True)
    assert video.frames.shape == (30, 16, 16, 3)
    assert np.array_equal(video.frames[..., 0], video.frames[..., 2])


def test_frame_folder_sorted_and_strided(tmp_path: Path) -> None:
    frames, _ = generate_video(np.random.default_rng(1), n_frames=10, size=32)
    for i, f in enumerate(frames):
        Image.fromarray(f).save(tmp_path / f"{i:03d}.png")
    video = read_frame_folder(tmp_path, stride=3)
    np.testing.assert_array_equal(video.frame_index, [0, 3, 6, 9])
    np.testing.assert_array_equal(video.frames, frames[::3])
    assert video.n_frames == 10


def test_missing_corrupt_and_empty_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no_such.mp4"):
        read_video(tmp_path / "no_such.mp4")
    bad = tmp_path / "garbage.mp4"
    bad.write_bytes(b"this is not a video" * 50)
    with pytest.raises(DataError, match="garbage.mp4"):
        read_video(bad)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="empty.mp4"):
        read_video(empty)
    with pytest.raises(DataError, match="nothing_here"):
        read_frame_folder(tmp_path / "nothing_here")
    (tmp_path / "nofr").mkdir()
    with pytest.raises(DataError, match="nofr"):
        read_frame_folder(tmp_path / "nofr")


def test_probe_reads_the_header(clip: tuple[Path, np.ndarray]) -> None:
    from omniad_video.decode import probe

    info = probe(clip[0])
    assert info["fps"] == pytest.approx(10) and info["width"] == 32 and info["height"] == 32
    assert info["n_frames"] in (None, 30)
