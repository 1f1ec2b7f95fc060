"""Embedder behaviour on the built-in tiny random BERT: shapes, pooling, batching, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from omniad.errors import ConfigError, DataError
from omniad_text.embeddings import Embedder, EmbeddingParams, embed_texts

TEXTS = [
    "the market grew after the election",
    "a short one",
    "film award for the star of the show",
    "mobile phone sales and internet users",
    "team wins the cup match",
]


def tiny(tmp_path, **kw):
    return Embedder({"model": "tiny-random", "cache_dir": tmp_path, **kw}, device="cpu")


def plain_reference(texts, pooling="mean", max_length=64):
    """Each text alone, no padding, straight through transformers: what the batched path must equal."""
    import torch

    from omniad_text.embeddings.tiny import build_tiny_model, build_tiny_tokenizer

    model, tok = build_tiny_model(), build_tiny_tokenizer()
    rows = []
    for text in texts:
        enc = tok([text], truncation=True, max_length=max_length, return_tensors="pt")
        with torch.no_grad():
            states = model(**enc).last_hidden_state[0]
        rows.append({"mean": states.mean(0), "cls": states[0], "last": states[-1], "max": states.max(0).values}[pooling])
    out = torch.stack(rows).numpy()
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def cosines(a, b):
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_shape_dtype_and_unit_norm(tmp_path):
    x = tiny(tmp_path).embed(TEXTS)
    assert x.shape == (5, 32) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    raw = tiny(tmp_path, normalize=False).embed(TEXTS)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0, atol=1e-3)
    np.testing.assert_allclose(raw / np.linalg.norm(raw, axis=1, keepdims=True), x, atol=1e-6)


@pytest.mark.parametrize("pooling", ["mean", "cls", "last", "max"])
@pytest.mark.parametrize("batch_size", [1, 2, 32])
def test_sorted_padded_batches_equal_one_text_at_a_time(tmp_path, pooling, batch_size):
    x = tiny(tmp_path, pooling=pooling, batch_size=batch_size, cache=False).embed(TEXTS)
    assert cosines(x, plain_reference(TEXTS, pooling)).min() >= 0.9999


def test_poolings_differ(tmp_path):
    vectors = {p: tiny(tmp_path, pooling=p).embed(TEXTS) for p in ("mean", "cls", "last", "max")}
    for a in vectors:
        for b in vectors:
            if a < b:
                assert not np.allclose(vectors[a], vectors[b], atol=1e-3), (a, b)


def test_order_and_duplicates_are_kept(tmp_path):
    e = tiny(tmp_path)
    x = e.embed(TEXTS + TEXTS[:2])
    np.testing.assert_array_equal(x[5:], x[:2])
    assert e.stats["cache_misses"] == 7 and e.stats["model_calls"] == 1
    y = tiny(tmp_path / "other").embed(TEXTS[::-1])
    np.testing.assert_allclose(y[::-1], x[:5], atol=1e-6)


def test_empty_and_whitespace_texts_embed_as_the_empty_text(tmp_path):
    e = tiny(tmp_path)
    x = e.embed(["", "   ", "\n\t", "team wins"])
    assert e.stats["empty_texts"] == 3
    np.testing.assert_array_equal(x[0], x[1])
    np.testing.assert_array_equal(x[0], x[2])
    assert np.isfinite(x).all() and not np.allclose(x[0], x[3])


def test_bytes_are_decoded_with_replacement_and_counted(tmp_path):
    e = tiny(tmp_path)
    x = e.embed([b"caf\xe9 bar", "caf\ufffd bar", b"ok"])
    assert e.stats["decoded_bytes"] == 2 and e.stats["invalid_utf8"] == 1
    np.testing.assert_array_equal(x[0], x[1])
    # a str with a lone surrogate (bytes decoded with surrogateescape) is cleaned the same way
    y = e.embed([b"caf\xe9 bar".decode("utf-8", errors="surrogateescape")])
    assert e.stats["invalid_utf8"] == 2
    np.testing.assert_allclose(y[0], x[0], atol=1e-6)


@pytest.mark.parametrize(("bad", "match"), [
    ([None, "a"], "text 0 is NoneType"),
    (["a", float("nan")], "text 1 is float"),
    ("just one string", "single str"),
    ([], "no texts"),
    (np.array([["a", "b"]]), "1-d"),
])
def test_bad_input_is_one_clear_error(tmp_path, bad, match):
    with pytest.raises(DataError, match=match):
        tiny(tmp_path).embed(bad)


def test_long_texts_are_truncated_at_the_model_limit_and_counted(tmp_path):
    long = "market " * 5000
    e = tiny(tmp_path, max_length=512)  # above the tiny model's 64 positions
    x = e.embed([long, "market " * 100, "short text"])
    assert e.stats["max_length"] == 64 and e.stats["model_limit"] == 64
    assert e.stats["truncated"] == 2
    # both long texts keep the same first 62 tokens
    np.testing.assert_allclose(x[0], x[1], atol=1e-6)
    e2 = tiny(tmp_path, max_length=8)
    e2.embed(["market growth", "one two three four five six seven eight"])
    assert e2.stats["truncated"] == 1 and e2.stats["max_length"] == 8
    # truncation is remembered by the cache, so a cached run reports the same count
    e3 = tiny(tmp_path, max_length=8)
    e3.embed(["market growth", "one two three four five six seven eight"])
    assert e3.stats["cache_hits"] == 2 and e3.stats["truncated"] == 1


def test_params_are_validated_in_one_line():
    with pytest.raises(ConfigError, match="unknown parameter 'modle'"):
        Embedder({"modle": "minilm"})
    with pytest.raises(ConfigError, match="batch_size"):
        Embedder({"batch_size": "32"})
    with pytest.raises(ConfigError, match="pooling"):
        Embedder({"pooling": "avg"})
    with pytest.raises(ConfigError, match="model"):
        Embedder({"model": "  "})
    assert EmbeddingParams().model == "minilm" and EmbeddingParams(model=" x ").model == "x"
    with pytest.raises(ConfigError, match="unknown device"):
        Embedder({"model": "tiny-random"}, device="tpu")


def test_dtypes_and_int8(tmp_path):
    ref = tiny(tmp_path).embed(TEXTS)
    with pytest.raises(ConfigError, match="fp16.*CUDA"):
        tiny(tmp_path, dtype="fp16").embed(TEXTS)
    bf16 = tiny(tmp_path, dtype="bf16").embed(TEXTS)
    assert cosines(ref, bf16).min() > 0.99
    int8 = tiny(tmp_path, backend="torch-int8").embed(TEXTS)
    assert cosines(ref, int8).min() > 0.95
    assert not np.array_equal(ref, int8)


def test_threads_setting_is_restored(tmp_path):
    import torch

    before = torch.get_num_threads()
    x = tiny(tmp_path, num_threads=1, cache=False).embed(TEXTS)
    assert torch.get_num_threads() == before
    np.testing.assert_allclose(x, tiny(tmp_path, cache=False).embed(TEXTS), atol=1e-5)


def test_model_calls_counts_forward_passes(tmp_path):
    before = Embedder.model_calls
    e = tiny(tmp_path, batch_size=2, cache=False)
    e.embed(TEXTS)
    assert e.stats["model_calls"] == 3 and Embedder.model_calls - before == 3


def test_embed_texts_convenience(tmp_path):
    x = embed_texts(TEXTS[:2], {"model": "tiny-random", "cache_dir": str(tmp_path)}, device="cpu")
    assert x.shape == (2, 32)


def test_fallback_only_when_allowed(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ConfigError, match="no-such-model"):
        Embedder({"model": "no-such-model", "cache_dir": tmp_path}).embed(["a"])
    e = Embedder({"model": "no-such-model", "cache_dir": tmp_path, "allow_fallback": True}, device="cpu")
    with pytest.warns(UserWarning, match="falling back"):
        x = e.embed(["a"])
    assert x.shape == (1, 32) and "tiny-random" in e.stats["fallback"]


def test_params_import_without_torch_or_transformers():
    import subprocess
    import sys

    code = ("import sys; from omniad_text.embeddings import EmbeddingParams; EmbeddingParams(model='tiny-random'); "
            "bad = [m for m in ('torch', 'transformers') if m in sys.modules]; assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)  # busy CI: generous
    assert result.returncode == 0, result.stderr[-500:]
