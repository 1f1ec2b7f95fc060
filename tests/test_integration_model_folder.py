"""Tampered model folders of modality detectors fail at load in one line naming the file (issue 32).

The core's own cases live in packages/omniad/tests/test_core_model_folder.py; these repeat
the reported ones on a scikit-learn-backed detector (``text.knn``: ``NearestNeighbors``), a
torch one (``timeseries.usad``) and a torch-scored bank with a saved ``k_``
(``video.frame_knn``), since each restores its state its own way.
"""

from __future__ import annotations

import atexit
import json
import re
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from omniad.detector import Detector
from omniad.errors import DataError
from omniad.plugins import get_registry

pytest.importorskip("omniad_text", reason="omniad-text is not installed; this check needs every package")
pytest.importorskip("omniad_timeseries", reason="omniad-timeseries is not installed")
pytest.importorskip("omniad_video", reason="omniad-video is not installed")

_CACHE = Path(tempfile.mkdtemp(prefix="omniad-model-folder-"))
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
RNG = np.random.default_rng(0)


def _series() -> list[np.ndarray]:
    t = np.arange(320)
    return [np.sin(2 * np.pi * t / 20) + 0.05 * RNG.standard_normal(320)]


def _videos() -> list[np.ndarray]:
    return [RNG.integers(0, 255, (12, 16, 16), dtype=np.uint8) for _ in range(2)]


def _texts() -> list[str]:
    subset = (
        get_registry()
        .get("dataset", "text.synthetic")
        .create({"n_train": 30, "n_test_normal": 4, "n_test_anomalous": 4})
        .load()[0]
    )
    return list(subset.train.samples)


DETECTORS: dict[str, tuple[dict[str, Any], Any]] = {
    "text.knn": ({"embedding": {"model": "tiny-random", "cache_dir": str(_CACHE)}, "n_neighbors": 5}, _texts),
    "timeseries.usad": (
        {"window": 16, "hidden_dim": 8, "latent_dim": 3, "epochs": 1, "batch_size": 32},
        _series,
    ),
    "video.frame_knn": ({"pixel_size": 8, "k": 3}, _videos),
}
_SAVED: dict[str, tuple[Path, Any]] = {}


def saved(detector_id: str, tmp_path: Path) -> tuple[Path, Any]:
    """A copy of one fitted, saved model (fitted once per session) and the samples it was fitted on."""
    if detector_id not in _SAVED:
        params, data = DETECTORS[detector_id]
        samples = data()
        det = get_registry().get("detector", detector_id).create(params, device="cpu", seed=0).fit(samples)
        _SAVED[detector_id] = (det.save(_CACHE / detector_id), samples)
    source, samples = _SAVED[detector_id]
    return Path(shutil.copytree(source, tmp_path / "model")), samples


def edit_json(file: Path, **changes: Any) -> None:
    data = json.loads(file.read_text())
    data.update(changes)
    file.write_text(json.dumps(data))


def edit_array(folder: Path, key: str, value: np.ndarray) -> None:
    arrays = load_file(str(folder / "arrays.safetensors"))
    arrays[key] = value
    save_file(arrays, str(folder / "arrays.safetensors"))


def load_fails(folder: Path, pattern: str) -> str:
    with pytest.raises(DataError) as caught:
        Detector.load(folder, device="cpu")
    message = str(caught.value)
    assert "\n" not in message, message
    assert str(folder) in message, message
    assert re.search(pattern, message), message
    return message


@pytest.mark.parametrize("detector_id", sorted(DETECTORS))
@pytest.mark.parametrize(
    ("name", "content", "pattern"),
    [
        ("omniad.json", b"[1, 2]", r"omniad\.json: the header must be a JSON object, got a list"),
        ("omniad.json", None, r"omniad\.json: format_version '9' is not an integer"),
        ("omniad.json", b"\xff\xfe", r"omniad\.json: header is not UTF-8"),
        ("state.json", b"\xff\xfe", r"state\.json: saved state is not UTF-8"),
        ("state.json", b"[1, 2]", r"state\.json: saved state must be a JSON object"),
    ],
)
def test_unreadable_files(
    tmp_path: Path, detector_id: str, name: str, content: bytes | None, pattern: str
) -> None:
    folder, _ = saved(detector_id, tmp_path)
    if content is None:
        edit_json(folder / name, format_version="9")
    elif content.startswith(b"\xff"):
        (folder / name).write_bytes((folder / name).read_bytes() + content)
    else:
        (folder / name).write_bytes(content)
    load_fails(folder, pattern)


def test_sklearn_bank_of_the_wrong_width(tmp_path: Path) -> None:
    """Used to load and then fail in NearestNeighbors: 'X has 32 features, but ... is expecting 16'."""
    folder, _ = saved("text.knn", tmp_path)
    edit_array(folder, "train_", np.zeros((30, 16)))
    load_fails(folder, r"saved state '(train_|embedding_dim_)'")


def test_sklearn_k_above_the_saved_bank(tmp_path: Path) -> None:
    folder, _ = saved("text.knn", tmp_path)
    header = json.loads((folder / "omniad.json").read_text())
    edit_json(folder / "omniad.json", params={**header["params"], "n_neighbors": 10**9})
    load_fails(folder, r"n_neighbors=1000000000 but only 30 training texts")


@pytest.mark.parametrize(
    ("key", "shape", "pattern"),
    [
        (
            "module.encoder.0.weight",
            (8, 32),
            r"'module\.encoder\.0\.weight' has shape \(8, 32\), but the network built "
            r"from the saved parameters needs \(8, 16\)",
        ),
        ("module.encoder.0.bias", (9,), r"'module\.encoder\.0\.bias' has shape \(9,\), but .* needs \(8,\)"),
    ],
)
def test_torch_weights_of_the_wrong_shape(
    tmp_path: Path, key: str, shape: tuple[int, ...], pattern: str
) -> None:
    """Used to pass load_state_dict's multi-line report through, or fail at score ('mat1 and mat2 ...')."""
    folder, _ = saved("timeseries.usad", tmp_path)
    edit_array(folder, key, np.zeros(shape, np.float32))
    load_fails(folder, pattern)


def test_torch_parameters_that_do_not_fit_the_saved_network(tmp_path: Path) -> None:
    folder, _ = saved("timeseries.usad", tmp_path)
    header = json.loads((folder / "omniad.json").read_text())
    edit_json(folder / "omniad.json", params={**header["params"], "hidden_dim": 12})
    load_fails(folder, r"saved state 'module\.[\w.]+' has shape .* needs")


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        (10**9, r"'k_' is 1000000000, must be <= n = "),
        (0, r"'k_' is 0, must be >= 1"),
        ("abc", r"'k_' is 'abc', not an integer"),
    ],
)
def test_saved_k_out_of_range(tmp_path: Path, value: Any, pattern: str) -> None:
    folder, _ = saved("video.frame_knn", tmp_path)
    edit_json(folder / "state.json", k_=value)
    load_fails(folder, pattern)


@pytest.mark.parametrize("detector_id", sorted(DETECTORS))
def test_undeclared_keys_and_stray_files_are_named_and_never_used(tmp_path: Path, detector_id: str) -> None:
    folder, samples = saved(detector_id, tmp_path)
    before = Detector.load(folder, device="cpu")
    (folder / "model.pkl").write_bytes(b"\x80\x04K\x01.")
    edit_json(
        folder / "state.json",
        params={"x": 1},
        threshold="abc",
        extra={"py/object": "os.system"},
        **{"py/reduce": [{"py/function": "os.system"}, ["echo pwned"]]},
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        det = Detector.load(folder, device="cpu")
    text = " | ".join(str(w.message) for w in caught)
    assert "ignored model.pkl" in text
    assert "jsonpickle markers" in text and "extra.py/object" in text and "py/reduce" in text
    assert "ignored saved state 'extra', 'params', 'py/reduce', 'threshold'" in text
    assert det.params == before.params and det.threshold_ == before.threshold_
    np.testing.assert_allclose(det.score(samples[:1]).sample, before.score(samples[:1]).sample, rtol=1e-6)
