"""A saved model folder is untrusted input: every way it can be wrong fails at load, in one line naming it.

The cases are those a hostile review found (a header that is a list, a string format
version, bytes that are not UTF-8, arrays of the wrong shape, state entries that overwrite
attributes, out-of-range scalars, a stray pickle beside the model) plus the declaration
machinery itself (``omniad.state``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

import omniad
from omniad.detector import Detector
from omniad.errors import DataError
from omniad.params import Params
from omniad.scores import Scores
from omniad.state import Array, Float, Int, Json, Module, StateError, Str, declare, validate

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 4))


def saved(tmp_path: Path, detector_id: str = "core.mahalanobis") -> Path:
    return omniad.create_detector(detector_id).fit(X).save(tmp_path / "model")


def edit_header(folder: Path, **changes: Any) -> None:
    header = json.loads((folder / "omniad.json").read_text())
    header.update(changes)
    (folder / "omniad.json").write_text(json.dumps(header))


@pytest.mark.parametrize("content", [b"[1, 2]", b'"text"', b"null"])
def test_header_that_is_not_an_object(tmp_path: Path, content: bytes) -> None:
    folder = saved(tmp_path)
    (folder / "omniad.json").write_bytes(content)
    with pytest.raises(DataError, match=r"omniad\.json: the header must be a JSON object"):
        Detector.load(folder)


def test_header_format_version_must_be_an_integer(tmp_path: Path) -> None:
    folder = saved(tmp_path)
    edit_header(folder, format_version="9")
    with pytest.raises(DataError, match="format_version '9' is not an integer"):
        Detector.load(folder)


@pytest.mark.parametrize("name", ["omniad.json", "state.json"])
def test_files_that_are_not_utf8(tmp_path: Path, name: str) -> None:
    folder = saved(tmp_path)
    (folder / name).write_bytes((folder / name).read_bytes() + b"\xff\xfe\x00")
    with pytest.raises(DataError, match=rf"{name}: .* not UTF-8"):
        Detector.load(folder)


@pytest.mark.parametrize(
    ("field", "value"),
    [("params", [1]), ("seed", "x"), ("threshold", "abc"), ("state_keys", "train_"), ("component_id", 3)],
)
def test_header_fields_of_the_wrong_type(tmp_path: Path, field: str, value: Any) -> None:
    folder = saved(tmp_path)
    edit_header(folder, **{field: value})
    with pytest.raises(DataError, match=repr(field) if field != "threshold" else "threshold 'abc'"):
        Detector.load(folder)


def test_saved_parameters_that_no_longer_validate(tmp_path: Path) -> None:
    folder = saved(tmp_path)
    edit_header(folder, params={"shrinkage": 7})
    with pytest.raises(DataError, match="saved parameters do not fit"):
        Detector.load(folder)


@pytest.mark.parametrize(("key", "shape"), [("precision_", (4, 5)), ("mean_", (3,)), ("precision_", (16,))])
def test_arrays_of_the_wrong_shape_fail_at_load(tmp_path: Path, key: str, shape: tuple[int, ...]) -> None:
    folder = saved(tmp_path)
    arrays = load_file(str(folder / "arrays.safetensors"))
    arrays[key] = np.zeros(shape)
    save_file(arrays, str(folder / "arrays.safetensors"))
    with pytest.raises(DataError, match=rf"{folder}: saved state '(mean_|precision_)' has shape"):
        Detector.load(folder)


def test_state_entries_never_overwrite_undeclared_attributes(tmp_path: Path) -> None:
    folder = saved(tmp_path)
    state = json.loads((folder / "state.json").read_text())
    state["params"] = {"x": 1}
    (folder / "state.json").write_text(json.dumps(state))
    with pytest.warns(UserWarning, match="ignored saved state 'params'"):
        det = Detector.load(folder)
    assert det.params.shrinkage == 0.01
    det.score(X[:3])


def test_stray_pickle_and_jsonpickle_markers_are_named(tmp_path: Path) -> None:
    folder = saved(tmp_path)
    (folder / "model.pkl").write_bytes(b"\x80\x04K\x01.")
    state = json.loads((folder / "state.json").read_text())
    state["extra"] = {"py/object": "os.system"}
    (folder / "state.json").write_text(json.dumps(state))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Detector.load(folder).score(X[:2])
    text = " | ".join(str(w.message) for w in caught)
    assert "ignored model.pkl" in text
    assert "jsonpickle markers (extra.py/object)" in text


class Banked(Detector):
    """A detector with the state shapes the declarations must cover (bank, k, a mode, a torch-like group)."""

    state_spec = declare(
        bank_=Array("n", "d"),
        scale_=Array("d"),
        k_=Int(ge=1, le="n"),
        rule_=Str(choices=("max", "mean")),
        level_=Float(ge=0, optional=True),
        net=Module(),
        vocab_=Json((list,), items=Str(), length="v"),
    )

    def _fit(self, samples: Any) -> None:
        x = np.asarray(samples, dtype=float)
        self.bank_, self.scale_, self.k_, self.rule_, self.level_ = x, x.std(0) + 1, 3, "max", None
        self.vocab_ = ["a", "b"]
        self.net_weights = x[:2]

    def get_state(self) -> dict[str, Any]:
        return {
            "bank_": self.bank_,
            "scale_": self.scale_,
            "k_": self.k_,
            "rule_": self.rule_,
            "level_": self.level_,
            "vocab_": self.vocab_,
            "net.weight": self.net_weights,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.net_weights = state.pop("net.weight")
        super().set_state(state)

    def _score(self, samples: Any) -> Scores:
        d = np.linalg.norm((np.asarray(samples)[:, None] - self.bank_[None]) / self.scale_, axis=2)
        return Scores(sample=np.sort(d, axis=1)[:, self.k_ - 1])


STATE = Banked().fit(X).get_state()


def check(**changes: Any) -> None:
    validate(Banked.declared_state() or {}, {**STATE, **changes}, Banked().params, where="m")


def test_declared_state_accepts_the_genuine_state() -> None:
    kept, ignored = validate(Banked.declared_state() or {}, {**STATE, "stray": 1}, Banked().params, where="m")
    assert ignored == ["stray"] and set(kept) == set(STATE)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"k_": 10**9}, r"'k_' is 1000000000, must be <= n = 40"),
        ({"k_": 0}, r"'k_' is 0, must be >= 1"),
        ({"k_": True}, r"'k_' is True, not an integer"),
        ({"k_": "abc"}, r"'k_' is 'abc', not an integer"),
        ({"scale_": np.ones(5)}, r"'scale_' has shape \(5,\): axis 0 is 5 but 'bank_' says d = 4"),
        ({"bank_": np.ones((40, 4), dtype=np.int64)}, r"'bank_' has dtype int64, not a float array"),
        ({"bank_": np.full((40, 4), np.nan)}, r"'bank_' holds NaN"),
        ({"rule_": "median"}, r"'rule_' is 'median', not one of 'max', 'mean'"),
        ({"level_": float("inf")}, r"'level_' is inf, not a finite number"),
        ({"vocab_": ["a", 2]}, r"'vocab_' item 1 is 2, not a string"),
        ({"net.weight": np.array(["x"])}, r"'net.weight' is an array of shape \(1,\), not a number array"),
        ({"rule_": None}, r"'rule_' is null"),
    ],
)
def test_declared_state_rejects(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(StateError, match=message):
        check(**changes)


def test_declared_state_names_what_is_missing() -> None:
    state = {k: v for k, v in STATE.items() if k not in ("k_", "net.weight")}
    with pytest.raises(StateError, match="lacks 'k_', 'net'"):
        validate(Banked.declared_state() or {}, state, Banked().params, where="m")


def test_spec_bounds_may_name_parameters() -> None:
    from omniad.params import Params

    class P(Params):
        window: int | None = 5

    spec = declare(w_=Int(le="params.window"), x_=Array("params.window"))
    validate(spec, {"w_": 5, "x_": np.ones(5)}, P(), where="m")
    with pytest.raises(StateError, match="must be <= params.window = 5"):
        validate(spec, {"w_": 6, "x_": np.ones(5)}, P(), where="m")
    with pytest.raises(StateError, match="but params.window is 5"):
        validate(spec, {"w_": 5, "x_": np.ones(6)}, P(), where="m")
    validate(spec, {"w_": 6, "x_": np.ones(6)}, P(window=None), where="m")  # None: not fixed


def test_declarations_are_inherited_and_read_only() -> None:
    class Child(Banked):
        state_spec = declare(extra_=Int())

    assert set(Child.declared_state() or {}) == {*(Banked.declared_state() or {}), "extra_"}
    with pytest.raises(TypeError):
        Child.state_spec["x"] = Int()  # type: ignore[index]
    with pytest.raises(TypeError, match="not an omniad.state spec"):
        declare(x_=int)  # type: ignore[arg-type]


def test_base_set_state_refuses_undeclared_keys() -> None:
    det = Banked().fit(X)
    with pytest.raises(DataError, match="'params' is not part of this detector's state"):
        det.set_state({"net.weight": X[:2], "params": {"x": 1}})


def test_parameters_are_checked_against_the_saved_state(tmp_path: Path) -> None:
    """Parameters pass their own model yet may not fit the saved arrays: k above the saved rows."""
    folder = saved(tmp_path, "core.knn")
    edit_header(folder, params={"n_neighbors": 10**9})
    with pytest.raises(
        DataError, match=rf"{folder}: .*n_neighbors=1000000000 but the saved model holds only 40"
    ):
        Detector.load(folder)


def test_errors_from_set_state_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = saved(tmp_path)
    from omniad.builtins.tabular_detectors import Mahalanobis

    def broken(self: Detector, state: dict[str, Any]) -> None:
        raise RuntimeError("Error(s) in loading state:\n\tsize mismatch for a\n\tsize mismatch for b")

    monkeypatch.setattr(Mahalanobis, "set_state", broken)
    with pytest.raises(DataError) as caught:
        Detector.load(folder)
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith(f"{folder}: saved state does not fit")
    assert "size mismatch for a" in str(caught.value)


class TinyTorchParams(Params):
    width: int = 3
    layers: int = 1


class TinyTorch(Detector):
    """One linear layer rebuilt from ``width`` at load, the way torch detectors restore their network."""

    Params = TinyTorchParams
    state_spec = declare(net=Module())

    def _build(self) -> Any:
        import torch

        w = self.params.width
        return torch.nn.Sequential(
            torch.nn.Linear(4, w), *(torch.nn.Linear(w, w) for _ in range(self.params.layers - 1))
        )

    def _fit(self, samples: Any) -> None:
        self.net_ = self._build()

    def get_state(self) -> dict[str, Any]:
        from omniad.torchstate import module_arrays

        return module_arrays(self.net_, "net")

    def set_state(self, state: dict[str, Any]) -> None:
        from omniad.torchstate import load_module_arrays

        self.net_ = self._build()
        load_module_arrays(self.net_, state, "net")

    def _score(self, samples: Any) -> Scores:
        import torch

        with torch.no_grad():
            out = self.net_(torch.as_tensor(np.asarray(samples), dtype=torch.float32))
        return Scores(sample=out.norm(dim=1).numpy().astype(float))


def saved_torch(tmp_path: Path) -> Path:
    pytest.importorskip("torch")
    return TinyTorch().fit(X).save(tmp_path / "model")


def edit_arrays(folder: Path, **arrays: np.ndarray | None) -> None:
    saved_arrays = load_file(str(folder / "arrays.safetensors"))
    for key, value in arrays.items():
        if value is None:
            del saved_arrays[key]
        else:
            saved_arrays[key] = value
    save_file(saved_arrays, str(folder / "arrays.safetensors"))


@pytest.mark.parametrize(
    ("arrays", "header", "message"),
    [
        (
            {"net.0.weight": np.zeros((3, 8), np.float32)},
            {},
            r"saved state 'net\.0\.weight' has shape \(3, 8\), but the network built from the saved parameters needs \(3, 4\)",
        ),
        (
            {},
            {"params": {"width": 5}},
            r"saved state 'net\.0\.weight' has shape \(3, 4\), but the network built from the saved parameters needs \(5, 4\)",
        ),
        (
            {"net.0.bias": None},
            {"state_keys": ["net.0.weight"]},
            r"saved state lacks 'net\.0\.bias' of the network",
        ),
        ({"net.extra": np.zeros(2, np.float32)}, {}, r"saved state holds 'net\.extra', which the network"),
    ],
)
def test_torch_state_that_does_not_fit_the_network(
    tmp_path: Path,
    arrays: dict[str, Any],
    header: dict[str, Any],
    message: str,
) -> None:
    """``load_state_dict``'s page-long report becomes one line naming the saved entry and the shape wanted."""
    folder = saved_torch(tmp_path)
    edit_arrays(folder, **arrays)
    edit_header(folder, **header)
    with pytest.raises(DataError, match=rf"^{folder}: {message}") as caught:
        TinyTorch.load(folder)
    assert "\n" not in str(caught.value)


def test_torch_state_round_trips(tmp_path: Path) -> None:
    """The shape check accepts what ``module_arrays`` wrote."""
    pytest.importorskip("torch")
    det = TinyTorch().fit(X)
    loaded = TinyTorch.load(det.save(tmp_path / "model"))
    np.testing.assert_allclose(loaded.score(X[:5]).sample, det.score(X[:5]).sample, rtol=1e-6)


def test_networks_grown_from_edited_parameters_stop_early(tmp_path: Path) -> None:
    """``layers=10**5`` in omniad.json would build 10**5 layers before any shape is compared."""
    import time

    folder = saved_torch(tmp_path)
    edit_header(folder, params={"layers": 10**5})
    start = time.perf_counter()
    with pytest.raises(
        DataError, match=rf"^{folder}: the network built from the saved parameters grows past"
    ) as caught:
        TinyTorch.load(folder)
    assert "\n" not in str(caught.value) and "the saved arrays hold 2 and 15" in str(caught.value)
    assert time.perf_counter() - start < 30  # measured ~0.3 s; the 10**5 layers take far longer


def test_the_build_limit_ends_with_the_load(tmp_path: Path) -> None:
    """The counting hooks are removed afterwards: big networks built later are not refused."""
    folder = saved_torch(tmp_path)
    TinyTorch.load(folder)
    import torch

    torch.nn.Sequential(*(torch.nn.Linear(2, 2) for _ in range(6000)))
