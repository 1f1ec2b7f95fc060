"""TimeRCD specifics: labelled anomaly injection, offline pretraining file, loading and its errors."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

import omniad
from omniad.device import torch_cpu_threads
from omniad.errors import ConfigError
from omniad_timeseries.detectors.neural.synthetic import INJECTORS, base_signal, inject

REPO = Path(__file__).resolve().parents[3]
ARCH = {"window": 32, "patch": 8, "d_model": 16, "n_heads": 2, "n_layers": 1, "dim_feedforward": 32}


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread() -> Iterator[None]:
    with torch_cpu_threads(1):
        yield


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("timercd") / "tiny.safetensors"
    cmd = [
        sys.executable, str(REPO / "tools" / "pretrain_timercd.py"), "--out", str(out), "--series", "200",
        "--epochs", "2", "--window", "32", "--patch", "8", "--d-model", "16", "--n-heads", "2",
        "--n-layers", "1", "--dim-feedforward", "32", "--device", "cpu",
    ]
    # a guard against a hang, not a speed test: measured 29 s on a 2-core machine under load 3 (was 300 s)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def series(length: int = 200) -> np.ndarray:
    return np.sin(np.arange(length) / 3.0)


def test_every_injector_labels_what_it_changed() -> None:
    rng = np.random.default_rng(0)
    for _ in range(300):
        x = base_signal(rng, 128)
        corrupted, labels = inject(rng, x)
        assert labels.shape == x.shape and labels.sum() >= 1
        unlabelled = labels == 0
        assert np.all(np.abs(corrupted - x)[unlabelled] <= 0.2 * x.std() + 1e-9)
    assert len(INJECTORS) >= 6


def test_pretrained_weights_load_zero_shot(weights: Path) -> None:
    from safetensors.torch import load_file

    det = omniad.create_detector("timeseries.timercd", {**ARCH, "weights": str(weights), "epochs": 0}, device="cpu")
    det.fit([series()])
    for key, value in load_file(str(weights)).items():
        torch.testing.assert_close(det.module_.state_dict()[key], value)
    probs = det.score([series(150)]).local[0]
    assert probs.shape == (150,) and np.all((probs >= 0) & (probs <= 1))


def test_fine_tuning_changes_pretrained_weights(weights: Path) -> None:
    from safetensors.torch import load_file

    params = {**ARCH, "weights": str(weights), "epochs": 1, "copies": 1, "train_stride": 16}
    det = omniad.create_detector("timeseries.timercd", params, seed=0, device="cpu").fit([series(400)])
    before = load_file(str(weights))["embed.weight"]
    assert not torch.allclose(det.module_.state_dict()["embed.weight"], before)


def test_architecture_mismatch_names_the_fix(weights: Path) -> None:
    det = omniad.create_detector("timeseries.timercd", {**ARCH, "d_model": 32, "weights": str(weights)}, device="cpu")
    with pytest.raises(ConfigError, match="d_model=16"):
        det.fit([series()])


def test_missing_weights_file(tmp_path: Path) -> None:
    det = omniad.create_detector("timeseries.timercd", {**ARCH, "weights": str(tmp_path / "none.safetensors")})
    with pytest.raises(ConfigError, match="does not exist"):
        det.fit([series()])


def test_untrained_model_refused() -> None:
    det = omniad.create_detector("timeseries.timercd", {**ARCH, "epochs": 0}, device="cpu")
    with pytest.raises(ConfigError, match="untrained"):
        det.fit([series()])


def test_window_must_hold_whole_patches() -> None:
    with pytest.raises(ConfigError, match="multiple of patch"):
        omniad.create_detector("timeseries.timercd", {"window": 30, "patch": 8})
