"""Saved state of the log detectors: edits the conformance kit's generic tamperings do not make.

The kit replaces whole entries; these edit inside them (a vocabulary one event longer, an
event listed twice, a nested bank of another width, a top-g the parameters contradict) and
check that each fails at ``Detector.load`` naming the folder, never later inside numpy/torch
or, worse, as scores silently computed with a shifted vocabulary.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from omniad.detector import Detector
from omniad.errors import DataError
from omniad.plugins import get_registry

#: 5 events: open, read, ack, store, close (6 feature columns with the unknown one)
SESSIONS = [["open", *(["read", "ack"] * (1 + i % 3)), *(["store"] * (i % 2)), "close"] for i in range(40)]


def create(detector_id: str, params: dict[str, Any]) -> Detector:
    return get_registry().get("detector", detector_id).create(dict(params), device="cpu", seed=0)


def _edit(det: Any, folder: Path, plain: Any = None, arrays: Any = None) -> Path:
    saved = det.save(folder)
    if plain is not None:
        state = json.loads((saved / "state.json").read_text())
        plain(state)
        (saved / "state.json").write_text(json.dumps(state))
    if arrays is not None:
        data = load_file(str(saved / "arrays.safetensors"))
        arrays(data)
        save_file({k: np.ascontiguousarray(v) for k, v in data.items()}, str(saved / "arrays.safetensors"))
    return saved


def _fitted(detector_id: str, params: dict[str, Any]) -> Any:
    return create(detector_id, params).fit(SESSIONS)


def test_vocabulary_longer_than_the_feature_columns_fails_at_load(tmp_path: Path) -> None:
    det = _fitted("logs.pca", {})
    folder = _edit(det, tmp_path / "m", plain=lambda s: s["features.events"].append("E999"))
    with pytest.raises(DataError, match=rf"{tmp_path / 'm'}.*'features.events' lists 6 events but 'features.idf' has 6"):
        Detector.load(folder, device="cpu")


def test_event_listed_twice_fails_at_load(tmp_path: Path) -> None:
    det = _fitted("logs.invariant_mining", {})

    def repeat(state: dict[str, Any]) -> None:
        state["features.events"][1] = state["features.events"][0]

    with pytest.raises(DataError, match="repeats events"):
        Detector.load(_edit(det, tmp_path / "m", plain=repeat), device="cpu")


def test_nested_bank_of_another_width_fails_at_load_not_at_score(tmp_path: Path) -> None:
    det = _fitted("logs.counts", {"detector": "core.knn", "detector_params": {"n_neighbors": 3}})

    def wider(arrays: dict[str, np.ndarray]) -> None:
        bank = arrays["inner.train_"]
        arrays["inner.train_"] = np.concatenate([bank, np.zeros((len(bank), 1))], axis=1)

    with pytest.raises(DataError, match="inner detector core.knn does not take the 6-column session vectors"):
        Detector.load(_edit(det, tmp_path / "m", arrays=wider), device="cpu")


def test_invariant_naming_a_column_past_the_vocabulary_fails_at_load(tmp_path: Path) -> None:
    det = _fitted("logs.invariant_mining", {})
    assert det.columns_, "the tiny sessions have invariants (open = close, read = ack)"

    def past(state: dict[str, Any]) -> None:
        state["columns_"][0][0] = len(state["features.events"]) + 1

    with pytest.raises(DataError, match=r"'columns_' item 0 item 0 is 6, must be < f = 6"):
        Detector.load(_edit(det, tmp_path / "m", plain=past), device="cpu")


def test_sequence_top_g_contradicting_its_parameter_fails_at_load(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    params = {"epochs": 1, "hidden_size": 8, "embedding_dim": 4, "num_layers": 1, "window": 3,
              "min_steps_per_epoch": 1}
    auto = _fitted("logs.deeplog", params)
    with pytest.raises(DataError, match="'top_g_' is 10000000, more than the 6 classes"):
        Detector.load(_edit(auto, tmp_path / "a", plain=lambda s: s.update(top_g_=10**7)), device="cpu")
    fixed = _fitted("logs.deeplog", {**params, "top_g": 2})
    with pytest.raises(DataError, match="'top_g_' is 3 but the parameter top_g is 2"):
        Detector.load(_edit(fixed, tmp_path / "f", plain=lambda s: s.update(top_g_=3)), device="cpu")


def test_sequence_events_listed_twice_fail_at_load(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    det = _fitted("logs.deeplog", {"epochs": 1, "hidden_size": 8, "embedding_dim": 4, "num_layers": 1,
                                   "window": 3, "min_steps_per_epoch": 1})

    def repeat(state: dict[str, Any]) -> None:
        state["events_"][1] = state["events_"][0]

    with pytest.raises(DataError, match="'events_' repeats events"):
        Detector.load(_edit(det, tmp_path / "m", plain=repeat), device="cpu")
