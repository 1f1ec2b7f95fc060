"""Videos on your own data: the README's commands on real UCSD Ped2 frames in fresh processes, equal to the API.

The README fits ``video.frame_knn`` on the Ped2 training frame folders (16 videos, read at
``max_side=64`` to keep this module near a minute on 2 cores) and scores test video 04 (a bike
crosses from frame 30 on). Loader choice, the "everything" mode of every loader, labels
from an events CSV, bare arrays and bad input run on small synthetic files written in the
released layouts (no shared data needed).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import omniad
from omniad.decision import Decisions
from omniad.detector import Detector
from omniad.errors import ConfigError, DataError
from omniad.plugins import get_registry
from omniad.scores import Scores
from omniad.shared import shared_data_root
from omniad.sources import SourceSpec, resolve
from omniad.testing.scores import assert_same_scores
from omniad_video.datasets.generator import write_benchmark
from omniad_video.datasets.render import pick_results, render_results
from omniad_video.decode import read_frame_folder
from omniad_video.samples import FrameVideo, SegmentFeatures

PED2 = shared_data_root() / "data" / "ucsd_ped2"
TRAIN, TEST04 = PED2 / "training" / "frames", PED2 / "testing" / "frames" / "04"
needs_ped2 = pytest.mark.skipif(not TRAIN.is_dir(), reason=f"{PED2} is absent (set OMNIAD_SHARED_DATA to ../shared)")
DETECTOR = "video.frame_knn"
SOURCE = {"max_side": 64}
#: the same device in the fresh processes as in the API calls, on any machine
ENV = {**os.environ, "PYTHONHASHSEED": "0", "OMNIAD_DEVICE": "cpu"}
SMALL = {"n_train": 2, "n_test_normal": 1, "n_test_per_anomaly": 1, "anomalies": ["speed"], "n_frames": 12,
         "size": 32, "seed": 1}


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=ENV, timeout=900)


def _quiet(_: str) -> None:
    pass


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The README's two commands, each in a fresh process."""
    if not TRAIN.is_dir():
        pytest.skip(f"{PED2} is absent (set OMNIAD_SHARED_DATA to ../shared)")
    work = tmp_path_factory.mktemp("cli")
    model, out = work / "ped2-model", work / "ped2-04"
    for argv in (["fit", DETECTOR, str(TRAIN), "-o", str(model), "-s", "max_side=64"],
                 ["score", str(model), str(TEST04), "-o", str(out)]):
        proc = _run("-m", "omniad", *argv)
        assert proc.returncode == 0, f"omniad {' '.join(argv)}:\n{proc.stderr[-3000:]}"
    return {"model": model, "out": out}


@pytest.fixture(scope="module")
def api_model() -> Detector:
    if not TRAIN.is_dir():
        pytest.skip(f"{PED2} is absent (set OMNIAD_SHARED_DATA to ../shared)")
    return omniad.fit(DETECTOR, TRAIN, source_params=SOURCE, device="cpu", say=_quiet)


@needs_ped2
def test_readme_commands_in_fresh_processes_equal_the_python_api(cli_run: dict[str, Path], api_model: Detector) -> None:
    out = cli_run["out"]
    samples, elements = _csv(out / "samples.csv"), _csv(out / "elements.csv")
    assert [(r["subset"], r["sample"]) for r in samples] == [("frames", "04")]
    assert list(elements[0]) == ["subset", "sample", "frame", "file", "score", "decision"]
    assert [int(r["frame"]) for r in elements] == list(range(180))  # every original frame, by its number
    assert [r["file"] for r in elements[:2]] == ["000.jpg", "001.jpg"]
    pictures = sorted((out / "pictures").rglob("*.png"))
    assert [p.name for p in pictures] == ["00_04.png"] and pictures[0].read_bytes()[:4] == b"\x89PNG"
    summary = json.loads((out / "summary.json").read_text())
    assert "the source has no labels: metrics skipped (scores and decisions only)" in summary["notes"]
    assert summary["metrics"] == {} and summary["source"]["loader"] == "video.frames"
    assert summary["thresholds"]["element"]["calibration"] == "held-out (3 of 16 samples)"

    api = omniad.score(api_model, TEST04, say=_quiet)
    assert [(r["sample"], r["score"], r["decision"]) for r in api.samples.rows()] == [
        (r["sample"], float(r["score"]), int(r["decision"])) for r in samples]  # exactly, not approximately
    assert api.elements.columns["score"] == [float(r["score"]) for r in elements]
    assert api.elements.columns["decision"] == [int(r["decision"]) for r in elements]
    # measured: the cart (frames 30-179) flagged on 115 of its 150 frames, none of frames 0-29 (they score at most
    # 0.32 against the frame threshold 0.565; the video 0.730 against 0.566), the same with 1 and 2 torch threads
    flagged = np.array([int(r["decision"]) for r in elements])
    assert samples[0]["decision"] == "1" and flagged[:30].sum() == 0 and flagged[30:].sum() >= 60


@needs_ped2
def test_an_events_csv_labels_the_frames_and_metrics_match_sklearn(api_model: Detector, tmp_path: Path) -> None:
    from sklearn.metrics import roc_auc_score

    events = tmp_path / "events.csv"
    # UCSDped2.m: video 02 [95:180], video 04 [31:180], 1-based inclusive -> 0-based inclusive
    events.write_text("video,start,end\n02,94,179\n04,30,179\n")
    with pytest.warns(UserWarning) as said:
        results = omniad.score(api_model, TEST04, source_params={"labels": str(events)}, say=_quiet)
    assert [str(w.message).split(": ", 1)[1] for w in said] == [
        "every video of 'frames' has labelled anomalous frames, so its fit split holds them all; score it, but fit "
        "on normal videos",
        "1 label row naming a video not in this source, skipped"]
    labels = np.array(results.elements.columns["label"])
    assert labels.tolist() == [0] * 30 + [1] * 150
    auroc = roc_auc_score(labels, results.elements.columns["score"])
    assert results.metrics["element_auroc"] == pytest.approx(auroc, abs=1e-12)
    assert auroc >= 0.95  # measured 1.000


@needs_ped2
def test_bare_arrays_paths_and_bad_input(api_model: Detector) -> None:
    video = read_frame_folder(TEST04, max_side=64)
    one = api_model.score(video.frames).sample
    assert one.shape == (1,)  # one (F, H, W, 3) array is one video, not F samples
    assert_same_scores(api_model.score(str(TEST04)).sample, one)  # a path: read as the fit data was
    assert_same_scores(api_model.score(video).sample, one)
    assert_same_scores(api_model.score([video.frames, video]).sample, np.r_[one, one])
    assert_same_scores(api_model.score(np.stack([video.frames] * 2)).sample, np.r_[one, one])
    gray = video.frames[..., 0]
    assert api_model.score(gray).sample.shape == (1,)  # (F, H, W) grayscale
    what = r"pass one video as a FrameVideo or an \(F, H, W, 3\) / \(F, H, W\) uint8 array"
    with pytest.raises(DataError, match=r"got float64 frames .*convert with \(frames \* 255\)"):
        api_model.score(video.frames / 255.0)
    with pytest.raises(DataError, match=r"got one \(43, 64, 3\) image; a video is \(F, H, W, 3\)"):
        api_model.score(video.frames[0])
    with pytest.raises(DataError, match=rf"got one frame, not a video; {what}"):
        api_model.score(gray[0])
    with pytest.raises(DataError, match=r"channels-first: np.moveaxis"):
        api_model.score(np.moveaxis(video.frames, -1, 1))
    with pytest.raises(DataError, match=r"sample #1 is a ndarray, not a FrameVideo: a \(43, 64\) array is one frame"):
        api_model.score([video.frames, gray[0]])
    with pytest.raises(DataError, match="features are scored by video.mil / video.rtfm"):
        api_model.score(SegmentFeatures(np.zeros((4, 8), np.float32), n_frames=16))
    with pytest.raises(DataError, match=f"got int; {what}"):
        api_model.score(3)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="does not exist"):
        api_model.score(str(PED2 / "no-such-folder"))


# -- small synthetic files: loader choice, every loader's everything mode, labels, pictures ---------------------
@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list[np.ndarray]]]:
    tmp = tmp_path_factory.mktemp("layouts")
    return {layout: write_benchmark(tmp / layout, layout, SMALL) for layout in ("ucsd", "shanghaitech", "files")}


def _loader(path: Path) -> str:
    return resolve(SourceSpec(path=str(path)), get_registry(), modality="video", sample_kind="frames").id


def test_each_path_picks_its_loader(layouts: dict[str, tuple[Path, list[np.ndarray]]], tmp_path: Path) -> None:
    ucsd, st, files = (layouts[k][0] for k in ("ucsd", "shanghaitech", "files"))
    assert _loader(ucsd) == _loader(ucsd / "UCSDped2") == "video.ucsd"
    assert _loader(ucsd / "UCSDped2" / "Test" / "Test001") == "video.frames"  # one frame folder
    assert _loader(ucsd / "UCSDped2" / "Test") == "video.frames"  # a folder of frame folders
    assert _loader(st) == "video.shanghaitech"
    avenue = tmp_path / "avenue_frames"
    shutil.copytree(st, avenue)
    assert _loader(avenue) == "video.avenue"
    shutil.rmtree(avenue / "testing" / "test_frame_mask")  # the layout's mark gone: plain frame folders
    assert _loader(avenue) == "video.frames"
    assert _loader(files) == _loader(files / "test") == _loader(files / "test" / "test_000.mp4") == "video.files"
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DataError, match=r"no installed loader reads a \.txt file of video data"):
        _loader(tmp_path / "notes.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="none of the loaders"):
        _loader(tmp_path / "empty")


def _everything(dataset_id: str, root: Path, **params: object):
    split = {} if dataset_id == "video.frames" else {"split": "all"}  # video.frames reads everything always
    (subset,) = get_registry().get("dataset", dataset_id).create({"root": str(root), **split, **params}).load()
    return subset


def test_every_loader_reads_everything_with_its_labels(layouts: dict[str, tuple[Path, list[np.ndarray]]]) -> None:
    for dataset_id, layout, ids in (
        ("video.ucsd", "ucsd", ["Train/Train001", "Train/Train002", "Test/Test001", "Test/Test002"]),
        ("video.shanghaitech", "shanghaitech", ["training/01_001", "training/01_002", "testing/01_0001",
                                                "testing/01_0002"]),
        ("video.avenue", "shanghaitech", ["training/01_001", "training/01_002", "testing/01_0001", "testing/01_0002"]),
        ("video.files", "files", ["train/train_000.mp4", "train/train_001.mp4", "test/test_000.mp4",
                                  "test/test_001.mp4"]),
    ):
        root, truth = layouts[layout]
        sub = _everything(dataset_id, root)
        assert sorted(sub.test.ids) == sorted(ids), (dataset_id, sub.test.ids)
        targets = dict(zip(sub.test.ids, sub.test.targets, strict=True))
        for name, want in zip(ids[2:], truth, strict=True):  # test videos keep their frame labels
            np.testing.assert_array_equal(targets[name], want)
        assert all(not targets[name].any() for name in ids[:2])
        assert sub.train.ids == [i for i in sub.test.ids if i != ids[3]]  # fitted on the videos labelled normal


def test_without_ground_truth_every_loader_is_unlabelled(layouts: dict[str, tuple[Path, list[np.ndarray]]],
                                                         tmp_path: Path) -> None:
    ucsd, st, files = (shutil.copytree(layouts[k][0], tmp_path / k) for k in ("ucsd", "shanghaitech", "files"))
    (ucsd / "UCSDped2" / "Test" / "UCSDped2.m").unlink()
    shutil.rmtree(st / "testing" / "test_frame_mask")
    (files / "labels.csv").unlink()
    with pytest.warns(UserWarning, match=r"UCSDped2\.m is missing, so the videos are unlabelled"):
        assert _everything("video.ucsd", ucsd).test.labels is None
    with pytest.warns(UserWarning, match="test_frame_mask is missing, so the videos are unlabelled"):
        assert _everything("video.shanghaitech", st).test.labels is None
    sub = _everything("video.files", files)
    assert sub.test.labels is None and len(sub.train) == 4
    with pytest.raises(DataError, match=r"UCSDped2\.m.*missing"):  # the benchmark split still needs its ground truth
        omniad.create_dataset("video.ucsd", {"root": str(ucsd)}).load()
    with pytest.raises(ConfigError, match="split='benchmark' scores test videos against labels; pass labels="):
        omniad.create_dataset("video.files", {"root": str(files)}).load()
    model = omniad.fit(DETECTOR, files / "train", params={"pixel_size": 8}, device="cpu", say=_quiet)
    said: list[str] = []
    results = omniad.score(model, files, say=said.append)
    assert said[-1] == "note: the source has no labels: metrics skipped (scores and decisions only)"
    assert results.metrics == {} and results.samples.n_rows == 4


def test_a_wrong_label_file_is_still_an_error(layouts: dict[str, tuple[Path, list[np.ndarray]]], tmp_path: Path) -> None:
    files = shutil.copytree(layouts["files"][0], tmp_path / "files")
    (files / "labels.csv").write_text("video,start,end\ntest_001,3,99\n")
    with pytest.raises(DataError, match=r"labels\.csv: event 3\.\.99 of test_001 lies outside its 12 frames"):
        _everything("video.files", files)
    (files / "labels.csv").write_text("clip,from,to\n")
    with pytest.raises(DataError, match=r"labels\.csv: needs the columns video,start,end"):
        _everything("video.files", files)
    st = shutil.copytree(layouts["shanghaitech"][0], tmp_path / "st")
    (st / "testing" / "test_frame_mask" / "01_0002.npy").unlink()
    with pytest.raises(DataError, match=r"01_0002\.npy: frame labels of test video 01_0002 are missing"):
        _everything("video.shanghaitech", st)


def test_frame_folders_in_natural_order_with_skips_counted(tmp_path: Path) -> None:
    from PIL import Image

    frames = tmp_path / "cam" / "monday"
    frames.mkdir(parents=True)
    for i in range(12):  # frame_1.png .. frame_12.png: a plain sort would put frame_10 second
        Image.fromarray(np.full((8, 10, 3), i * 20, np.uint8)).save(frames / f"frame_{i + 1}.png")
    (frames / "Thumbs.db").write_bytes(b"x")
    (tmp_path / "cam" / "monday_gt").mkdir()
    Image.fromarray(np.zeros((8, 10), np.uint8)).save(tmp_path / "cam" / "monday_gt" / "001.bmp")
    with pytest.warns(UserWarning) as said:
        sub = _everything("video.frames", tmp_path / "cam", frame_rate=4.0)
    assert sorted(str(w.message).split(": ", 1)[1] for w in said) == [
        "1 file in a frame folder that is not a frame image, skipped",
        "1 pixel-mask folder (*_gt) beside the frame folders, skipped"]
    assert sub.test.ids == ["monday"] and sub.test.labels is None
    assert sub.meta["counts"] == {"non_frame_files_skipped": 1, "mask_folders_skipped": 1}
    video = sub.test.samples[0]
    assert video.frames[:, 0, 0, 0].tolist() == [i * 20 for i in range(12)]
    dataset = get_registry().get("dataset", "video.frames").create({"root": str(frames), "frame_rate": 4.0})
    columns = dataset.element_columns(sub.test, 0, 12)
    assert list(columns) == ["frame", "time_s", "file"]
    assert columns["file"][:3] == ["frame_1.png", "frame_2.png", "frame_3.png"] and columns["time_s"][5] == 1.25


def test_video_files_name_frames_with_their_time(layouts: dict[str, tuple[Path, list[np.ndarray]]]) -> None:
    clip = layouts["files"][0] / "test" / "test_001.mp4"
    (subset,) = omniad.create_dataset("video.files", {"root": str(clip), "split": "all"}).load()
    assert subset.name == "test" and subset.test.ids == ["test_001.mp4"] and subset.test.labels is None
    columns = omniad.create_dataset("video.files", {"root": str(clip), "split": "all"}).element_columns(
        subset.test, 0, 12)
    assert list(columns) == ["frame", "time_s"] and columns["time_s"][:3] == [0.0, 0.04, 0.08]  # 25 fps


def test_a_layout_loader_given_one_of_its_frame_folders_reads_it_plainly(
        layouts: dict[str, tuple[Path, list[np.ndarray]]]) -> None:
    folder = layouts["ucsd"][0] / "UCSDped2" / "Test" / "Test002"
    with pytest.warns(UserWarning, match="is not a UCSD folder .*read as plain frame folders"):
        sub = _everything("video.ucsd", folder)
    assert sub.test.ids == ["Test002"] and len(sub.test.samples[0].frames) == 12


def test_in_memory_videos_fit_and_score(layouts: dict[str, tuple[Path, list[np.ndarray]]]) -> None:
    sub = _everything("video.shanghaitech", layouts["shanghaitech"][0])
    frames = [v.frames for v in sub.train.samples]
    det = omniad.create_detector(DETECTOR, {"pixel_size": 8, "k": 1}, device="cpu", seed=0).fit(frames)
    assert_same_scores(det.score(frames[0]).sample, det.score([FrameVideo(frames[0])]).sample)
    for detector_id in ("video.frame_gaussian", "video.future_frame"):
        other = omniad.create_detector(detector_id, {"epochs": 1} if detector_id == "video.future_frame" else {},
                                       device="cpu", seed=0)
        with pytest.raises(DataError, match=r"got one \(32, 32, 3\) image"):
            other.fit(frames[0][0])


def test_pictures_shade_flagged_frames_and_draw_the_threshold(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    videos = [FrameVideo(np.full((10, 8, 8, 3), 40 * i, np.uint8), fps=5.0) for i in range(3)]
    local = [np.linspace(0, 1 + i, 10) for i in range(3)]
    scores = Scores(sample=np.array([s.max() for s in local]), local=local)
    decided = Decisions(scores, np.array([0, 1, 1], np.int8), [(s > 1.5).astype(np.int8) for s in local], 1.8, 1.5)
    assert pick_results(decided, 2) == [2, 0]  # the top flagged video, then the top one decided normal
    assert pick_results(decided, 8) == [2, 1, 0]
    assert pick_results(Decisions(scores, None, None, None, None), 2) == [2, 1]
    from omniad.data import Split

    split = Split(samples=videos, ids=["a.mp4", "b.mp4", "c.mp4"], targets=[np.zeros(10, np.int8)] * 3)
    paths = render_results(split, decided, tmp_path, max_items=2)
    assert [p.name for p in paths] == ["00_c.png", "01_a.png"] and all(p.stat().st_size > 1000 for p in paths)


def test_weak_detectors_take_one_segment_features_and_refuse_a_bare_array() -> None:
    rng = np.random.default_rng(0)
    videos = [SegmentFeatures(rng.normal(size=(4, 8)).astype(np.float32) + 3 * label, n_frames=16, label=label)
              for label in (0, 1, 0, 1)]
    det = omniad.create_detector("video.mil", {"iterations": 5}, device="cpu", seed=0).fit(videos)
    assert_same_scores(det.score(videos[1]).sample, det.score([videos[1]]).sample)
    with pytest.raises(DataError, match=r"got a \(4, 8\) array; .*pass SegmentFeatures\(features, n_frames=...\)"):
        det.score(videos[1].features)
