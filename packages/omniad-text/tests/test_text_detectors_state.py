"""Saved text detectors know which embedding model they were fitted on, and their folders are checked at load.

The conformance kit (test_text_detectors.py) edits saved folders generically; these tests
cover what it cannot: a model folder whose weights changed under the same name, an encoder
whose hidden size is not its token table's width (ALBERT), older folders, nested states.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from omniad.detector import Detector
from omniad.errors import DataError
from omniad.plugins import get_registry

TEXTS = [f"the {w} match of the cup and the {v} game" for w in ("club", "team", "player", "star", "film")
         for v in ("new", "first", "world", "music", "bank", "phone")]
NEW = ["the bank said sales growth", "the team won the cup match", "mobile phone software users"]


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))


def save_encoder(path: Path, *, albert: bool = False, seed: int = 0) -> Path:
    """A small random encoder with the tiny tokenizer, saved as a user's model folder.

    ``albert``: an ALBERT with 16-wide token embeddings under a 32-wide hidden state, as in
    real ALBERTs (128 under 768): the token table's width is not the width of the states.
    """
    import torch
    from transformers import AlbertConfig, AlbertModel, BertConfig, BertModel

    from omniad_text.embeddings.tiny import TINY_MAX_POSITIONS, build_tiny_tokenizer, tiny_vocab

    common = {"vocab_size": len(tiny_vocab()), "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
              "intermediate_size": 64, "max_position_embeddings": TINY_MAX_POSITIONS, "pad_token_id": 0}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if albert:
            model = AlbertModel(AlbertConfig(embedding_size=16, **common), add_pooling_layer=False)
        else:
            model = BertModel(BertConfig(**common), add_pooling_layer=False)
    model.save_pretrained(path)
    build_tiny_tokenizer().save_pretrained(path)
    return path


def create(detector_id: str, model: Path | str, cache: Path, **params: Any) -> Detector:
    embedding = {"model": str(model), "cache_dir": str(cache)}
    return get_registry().get("detector", detector_id).create({"embedding": embedding, **params}, device="cpu", seed=0)


CVDD = {"epochs": 2, "attention_size": 8, "n_contexts": 2}


@pytest.mark.parametrize("tokens", ["contextual", "static"])
def test_cvdd_on_an_albert_like_encoder_round_trips(tmp_path: Path, tokens: str) -> None:
    """The network is rebuilt at the width it was trained on: the hidden size (32) for contextual
    states, the token table's (16) for static ones. It was rebuilt at the table's width, so a
    contextual CVDD on ALBERT could be fitted and saved but never loaded."""
    folder = save_encoder(tmp_path / "albert", albert=True)
    det = create("text.cvdd", folder, tmp_path / "cache", tokens=tokens, **CVDD).fit(TEXTS)
    assert det.token_dim_ == (32 if tokens == "contextual" else 16)
    assert det.provenance()["embedding"]["dimension"] == det.token_dim_
    before = det.score(NEW).sample
    det.save(tmp_path / "m")
    loaded = Detector.load(tmp_path / "m", device="cpu")
    np.testing.assert_allclose(loaded.score(NEW).sample, before, rtol=1e-5, atol=1e-6)


def test_cvdd_with_other_token_vectors_fails_at_load_naming_both_widths(tmp_path: Path) -> None:
    folder = save_encoder(tmp_path / "albert", albert=True)
    det = create("text.cvdd", folder, tmp_path / "cache", **CVDD).fit(TEXTS)
    saved = det.save(tmp_path / "m")
    header = json.loads((saved / "omniad.json").read_text())
    header["params"]["tokens"] = "static"  # the 16-wide table under a network trained on 32-wide states
    (saved / "omniad.json").write_text(json.dumps(header))
    with pytest.raises(DataError, match=r"trained on 32-dimensional token vectors but the static token vectors "
                                        r"of model .*albert.* have 16"):
        Detector.load(saved, device="cpu")


def test_cvdd_folder_without_token_dim_loads_at_the_contexts_width(tmp_path: Path) -> None:
    """Folders saved before token_dim_ existed are rebuilt at the width of their saved contexts."""
    folder = save_encoder(tmp_path / "albert", albert=True)
    det = create("text.cvdd", folder, tmp_path / "cache", **CVDD).fit(TEXTS)
    saved = det.save(tmp_path / "m")
    drop_entry(saved, "token_dim_")
    loaded = Detector.load(saved, device="cpu")
    assert loaded.token_dim_ == 32
    np.testing.assert_allclose(loaded.score(NEW).sample, det.score(NEW).sample, rtol=1e-5, atol=1e-6)


def drop_entry(saved: Path, key: str) -> None:
    state = json.loads((saved / "state.json").read_text())
    del state[key]
    (saved / "state.json").write_text(json.dumps(state))
    header = json.loads((saved / "omniad.json").read_text())
    header["state_keys"].remove(key)
    (saved / "omniad.json").write_text(json.dumps(header))


@pytest.mark.parametrize("detector_id", ["text.knn", "text.deep_svdd", "text.embedded", "text.cvdd"])
def test_a_model_folder_changed_after_fit_is_refused_naming_both(tmp_path: Path, detector_id: str) -> None:
    """Same name, same width, other weights: the saved detector must not score with them silently.

    Before, every embedding detector scored such vectors as if they were the fitted ones
    (only a different width was caught); CVDD already refused at load.
    """
    folder = save_encoder(tmp_path / "bert")
    params = {"text.deep_svdd": {"epochs": 2, "hidden": [8], "rep_dim": 4}, "text.cvdd": CVDD}.get(detector_id, {})
    det = create(detector_id, folder, tmp_path / "cache", **params).fit(TEXTS)
    if detector_id != "text.cvdd":
        record = det.get_state()["embedding_model_"]
        assert record["model"] == str(folder) and record["backend"] == "torch" and record["dimension"] == 32
        assert det.provenance()["embedding"]["dimension"] == 32
    det.save(tmp_path / "m")
    save_encoder(folder, seed=1)  # the user re-saves another model of the same width into the folder
    with pytest.raises(DataError, match=r"identity [0-9a-f]{12}.*identity [0-9a-f]{12}") as caught:
        Detector.load(tmp_path / "m", device="cpu").score(NEW)
    if detector_id != "text.cvdd":
        assert "fitted on 32-dimensional embeddings of model" in str(caught.value)


def test_score_with_a_narrower_model_names_both_widths_and_models(tmp_path: Path) -> None:
    det = create("text.knn", "tiny-random", tmp_path / "cache").fit(TEXTS)
    det.embedding_dim_ = det.embedding_model_["dimension"] = 48  # as if fitted on a 48-wide model of that identity
    with pytest.raises(DataError, match=r"embeddings have 32 dimensions but the detector was fitted on 48 "
                                        r"\(these are of model 'tiny-random', identity [0-9a-f]{12}, the fitted ones "
                                        r"of model 'tiny-random'"):
        det.score(NEW)


def test_older_folder_without_embedding_model_is_checked_through_its_stats(tmp_path: Path) -> None:
    """Folders saved before embedding_model_ existed carry the identity in embedding_stats_."""
    folder = save_encoder(tmp_path / "bert")
    det = create("text.knn", folder, tmp_path / "cache").fit(TEXTS)
    saved = det.save(tmp_path / "m")
    drop_entry(saved, "embedding_model_")
    loaded = Detector.load(saved, device="cpu")
    np.testing.assert_allclose(loaded.score(NEW).sample, det.score(NEW).sample)
    save_encoder(folder, seed=1)
    with pytest.raises(DataError, match="weights/tokenizer files differ"):
        Detector.load(saved, device="cpu").score(NEW)


def test_embedding_model_entry_must_agree_with_the_dimension(tmp_path: Path) -> None:
    det = create("text.knn", "tiny-random", tmp_path / "cache").fit(TEXTS)
    saved = det.save(tmp_path / "m")
    state = json.loads((saved / "state.json").read_text())
    state["embedding_model_"]["dimension"] = 384
    (saved / "state.json").write_text(json.dumps(state))
    with pytest.raises(DataError, match=f"{saved}.*'embedding_model_' says dimension 384 but 'embedding_dim_' is 32"):
        Detector.load(saved, device="cpu")


def test_deep_svdd_layer_widths_are_checked_before_building(tmp_path: Path) -> None:
    """An edited embedding_dim_ fails on the saved array shapes, without building a layer that wide."""
    det = create("text.deep_svdd", "tiny-random", tmp_path / "cache", epochs=1, hidden=[8], rep_dim=4).fit(TEXTS)
    saved = det.save(tmp_path / "m")
    state = json.loads((saved / "state.json").read_text())
    state["embedding_dim_"] = state["embedding_model_"]["dimension"] = 10**9
    (saved / "state.json").write_text(json.dumps(state))
    with pytest.raises(DataError, match=r"saved network arrays .* do not match the layers \[1000000000, 8, 4\]"):
        Detector.load(saved, device="cpu")


def test_embedded_inner_state_is_checked_against_the_inner_declaration(tmp_path: Path) -> None:
    from safetensors.numpy import load_file, save_file

    det = create("text.embedded", "tiny-random", tmp_path / "cache", detector="core.knn").fit(TEXTS)
    saved = det.save(tmp_path / "m")
    arrays = load_file(str(saved / "arrays.safetensors"))
    arrays["inner.train_"][0, 0] = np.nan
    save_file(arrays, str(saved / "arrays.safetensors"))
    with pytest.raises(DataError, match=f"{saved}.*inner detector core.knn: saved state 'train_' holds NaN"):
        Detector.load(saved, device="cpu")

    saved = det.save(tmp_path / "m2")
    state = json.loads((saved / "state.json").read_text())
    state["inner.score"] = 1  # an entry the inner class does not declare must not reach its set_state
    state["inner_keys"].append("score")
    (saved / "state.json").write_text(json.dumps(state))
    header = json.loads((saved / "omniad.json").read_text())
    header["state_keys"].append("inner.score")
    (saved / "omniad.json").write_text(json.dumps(header))
    with pytest.raises(DataError, match=r"inner detector core.knn: saved state holds entries it does not declare: "
                                        r"\['score'\]"):
        Detector.load(saved, device="cpu")


def test_ecod_state_must_be_sorted_with_signs(tmp_path: Path) -> None:
    from safetensors.numpy import load_file, save_file

    det = create("text.ecod", "tiny-random", tmp_path / "cache").fit(TEXTS)
    for key, edit, message in (("sorted_train_", lambda a: a[::-1].copy(), "not sorted"),
                               ("skew_sign_", lambda a: a * 5, "other than -1, 0 and 1")):
        saved = det.save(tmp_path / key)
        arrays = load_file(str(saved / "arrays.safetensors"))
        arrays[key] = edit(arrays[key])
        save_file(arrays, str(saved / "arrays.safetensors"))
        with pytest.raises(DataError, match=f"{saved}.*{message}"):
            Detector.load(saved, device="cpu")
