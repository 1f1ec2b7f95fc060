"""The on-disk embedding cache: hits, keys, concurrent writers, read-only dirs, corrupt entries."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from omniad_text.embeddings import Embedder
from omniad_text.embeddings.cache import EmbeddingCache, EmbeddingCacheWarning, text_hash

TEXTS = ["the market grew", "team wins the cup", "film award", "", "phone sales"]


def tiny(cache_dir, **kw):
    return Embedder({"model": "tiny-random", "cache_dir": cache_dir, **kw}, device="cpu")


def shard_files(cache_dir, suffix):
    return sorted(cache_dir.glob(f"*/shards/*{suffix}"))


def test_second_embedder_reads_the_cache_without_forward_passes(tmp_path):
    first = tiny(tmp_path)
    x = first.embed(TEXTS)
    assert first.stats["cache_misses"] == 5 and first.stats["model_calls"] == 1
    second = tiny(tmp_path)
    y = second.embed(TEXTS[::-1])
    assert second.stats["cache_hits"] == 5 and second.stats["model_calls"] == 0
    np.testing.assert_array_equal(x, y[::-1])
    # only the new texts are computed
    third = tiny(tmp_path)
    third.embed([*TEXTS, "a new text"])
    assert third.stats["cache_hits"] == 5 and third.stats["cache_misses"] == 1
    assert len(shard_files(tmp_path, ".json")) == 2


def test_layout_is_safetensors_plus_json_and_the_key_is_described(tmp_path):
    tiny(tmp_path).embed(TEXTS)
    (key_file,) = tmp_path.glob("*/key.json")
    key = json.loads(key_file.read_text())
    assert {"model_identity", "pooling", "max_length", "dtype", "backend", "format"} <= set(key)
    (index_file,) = shard_files(tmp_path, ".json")
    index = json.loads(index_file.read_text())
    assert index["texts"] == [text_hash(t) for t in TEXTS] and index["n"] == 5
    from safetensors.numpy import load_file

    assert load_file(str(index_file.with_suffix(".safetensors")))["embeddings"].shape == (5, 32)
    assert not list(tmp_path.rglob("*.pkl")) and not list(tmp_path.rglob("*.tmp"))


def test_normalisation_is_applied_after_the_cache(tmp_path):
    unit = tiny(tmp_path).embed(TEXTS)
    raw_embedder = tiny(tmp_path, normalize=False)
    raw = raw_embedder.embed(TEXTS)
    assert raw_embedder.stats["cache_hits"] == 5
    np.testing.assert_allclose(raw / np.linalg.norm(raw, axis=1, keepdims=True), unit, atol=1e-6)


@pytest.mark.parametrize("change", [{"pooling": "cls"}, {"max_length": 8}, {"dtype": "bf16"}, {"backend": "torch-int8"}])
def test_every_vector_changing_setting_is_in_the_key(tmp_path, change):
    tiny(tmp_path).embed(TEXTS)
    other = tiny(tmp_path, **change)
    other.embed(TEXTS)
    assert other.stats["cache_hits"] == 0 and other.stats["model_calls"] == 1
    assert len(list(tmp_path.glob("*/key.json"))) == 2


def test_cache_off_writes_nothing(tmp_path):
    e = tiny(tmp_path, cache=False)
    e.embed(TEXTS)
    assert not any(tmp_path.iterdir()) and e.stats["cache_hits"] == 0


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNIAD_TEXT_CACHE", str(tmp_path / "env-cache"))
    Embedder({"model": "tiny-random"}, device="cpu").embed(TEXTS)
    assert len(list((tmp_path / "env-cache").glob("*/shards/*.safetensors"))) == 1


@pytest.mark.parametrize("damage", ["json-garbage", "json-count", "safetensors-truncated", "safetensors-nan"])
def test_a_corrupt_entry_is_recomputed_and_reported(tmp_path, damage):
    x = tiny(tmp_path).embed(TEXTS)
    (index_file,) = shard_files(tmp_path, ".json")
    tensor_file = index_file.with_suffix(".safetensors")
    if damage == "json-garbage":
        index_file.write_text("{not json")
    elif damage == "json-count":
        index = json.loads(index_file.read_text())
        index_file.write_text(json.dumps({**index, "n": 99}))
    elif damage == "safetensors-truncated":
        tensor_file.write_bytes(tensor_file.read_bytes()[:40])
    else:
        from safetensors.numpy import save_file

        save_file({"embeddings": np.full((5, 32), np.nan, dtype=np.float32)}, str(tensor_file))
    e = tiny(tmp_path)
    with pytest.warns(EmbeddingCacheWarning, match="unreadable"):
        y = e.embed(TEXTS)
    assert e.stats["cache_corrupt"] == 1 and e.stats["cache_misses"] == 5 and e.stats["model_calls"] == 1
    np.testing.assert_allclose(x, y, atol=1e-6)
    # the damaged shard was removed and replaced: the next run is all hits, no warning
    again = tiny(tmp_path)
    again.embed(TEXTS)
    assert again.stats["cache_hits"] == 5 and again.stats["cache_corrupt"] == 0


@pytest.mark.parametrize("damage", ["reordered", "swapped-rows", "other-shard", "other-key", "truncated-flags"])
def test_an_index_that_does_not_match_its_rows_is_detected(tmp_path, damage):
    """The index once served another text's vector when its hash list was reordered; each
    row's key now lives inside the safetensors file beside its vector and must match."""
    x = tiny(tmp_path).embed(TEXTS)
    (index_file,) = shard_files(tmp_path, ".json")
    index = json.loads(index_file.read_text())
    if damage == "reordered":
        index_file.write_text(json.dumps({**index, "texts": index["texts"][::-1]}))
    elif damage == "swapped-rows":  # two rows exchanged: most rows still line up
        texts = list(index["texts"])
        texts[0], texts[1] = texts[1], texts[0]
        index_file.write_text(json.dumps({**index, "texts": texts}))
    elif damage == "other-shard":  # a shard of five other texts: its vectors put under this index
        tiny(tmp_path).embed([f"other text {i}" for i in range(5)])
        other = next(p for p in shard_files(tmp_path, ".json") if p != index_file)
        index_file.with_suffix(".safetensors").write_bytes(other.with_suffix(".safetensors").read_bytes())
    elif damage == "other-key":  # a shard copied in from the cache of another model/pooling
        tiny(tmp_path, pooling="cls").embed(TEXTS)
        other = next(p for p in shard_files(tmp_path, ".json") if p.parents[1] != index_file.parents[1])
        index_file.with_suffix(".safetensors").write_bytes(other.with_suffix(".safetensors").read_bytes())
    else:
        index_file.write_text(json.dumps({**index, "truncated": [0, 2]}))
    e = tiny(tmp_path)
    with pytest.warns(EmbeddingCacheWarning, match=r"does not match its index .* delete the cache folder"):
        y = e.embed(TEXTS)
    assert e.stats["cache_mismatch"] == 1 and e.stats["cache_corrupt"] == 1 and e.stats["cache_misses"] == 5
    assert e.stats["truncated"] == 0
    np.testing.assert_allclose(x, y, atol=1e-6)
    again = tiny(tmp_path)  # the bad shard was removed and the texts stored afresh
    again.embed(TEXTS)
    assert again.stats["cache_hits"] == 5 and again.stats["cache_corrupt"] == 0


def test_a_cut_short_index_is_detected(tmp_path):
    x = tiny(tmp_path).embed(TEXTS)
    (index_file,) = shard_files(tmp_path, ".json")
    index = json.loads(index_file.read_text())
    index_file.write_text(json.dumps({**index, "texts": index["texts"][1:], "n": 4}))
    e = tiny(tmp_path)
    with pytest.warns(EmbeddingCacheWarning, match="does not match its index"):
        y = e.embed(TEXTS)
    assert e.stats["cache_corrupt"] == 1 and e.stats["cache_misses"] == 5
    np.testing.assert_allclose(x, y, atol=1e-6)


def test_shards_store_their_row_keys_and_cache_key(tmp_path):
    from safetensors import safe_open

    e = tiny(tmp_path)
    e.embed(TEXTS)
    (tensor_file,) = shard_files(tmp_path, ".safetensors")
    with safe_open(str(tensor_file), framework="numpy") as fh:
        assert fh.metadata()["cache_key"] == e.cache.key
        keys = fh.get_tensor("row_keys")
    assert keys.shape == (5, 32) and keys.dtype == np.uint8
    import hashlib

    assert bytes(keys[2]) == hashlib.sha256(text_hash(TEXTS[2]).encode()).digest()


def test_an_unwritable_cache_dir_is_reported_not_fatal(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    e = tiny(blocker / "cache")  # mkdir fails: a file stands where the directory should be
    with pytest.warns(EmbeddingCacheWarning, match="cannot write"):
        x = e.embed(TEXTS)
    assert x.shape == (5, 32) and e.stats["cache_write_errors"] == 1 and e.stats["cache_misses"] == 5
    with pytest.warns(EmbeddingCacheWarning):
        tiny(blocker / "cache").embed(TEXTS)


def test_a_read_only_cache_dir_still_serves_hits(tmp_path, monkeypatch):
    x = tiny(tmp_path).embed(TEXTS)
    import omniad_text.embeddings.cache as cache_module

    def read_only(path, data):
        raise PermissionError(13, "Read-only file system", str(path))

    monkeypatch.setattr(cache_module, "_atomic_write", read_only)
    e = tiny(tmp_path)
    with pytest.warns(EmbeddingCacheWarning, match="Read-only file system"):
        y = e.embed([*TEXTS, "a new text"])
    assert e.stats["cache_hits"] == 5 and e.stats["cache_write_errors"] == 1
    np.testing.assert_array_equal(x, y[:5])


@pytest.mark.skipif(sys.platform == "win32" or not hasattr(__import__("os"), "geteuid")
                    or __import__("os").geteuid() == 0, reason="root ignores directory permissions")
def test_a_chmod_read_only_cache_dir(tmp_path):
    tiny(tmp_path).embed(TEXTS)
    for p in [tmp_path, *tmp_path.rglob("*")]:
        if p.is_dir():
            p.chmod(0o555)
    try:
        e = tiny(tmp_path)
        with pytest.warns(EmbeddingCacheWarning):
            e.embed([*TEXTS, "new"])
        assert e.stats["cache_hits"] == 5 and e.stats["cache_write_errors"] == 1
    finally:
        for p in [tmp_path, *tmp_path.rglob("*")]:
            if p.is_dir():
                p.chmod(0o755)


WRITER = textwrap.dedent("""
    import sys, numpy as np
    from omniad_text.embeddings.cache import EmbeddingCache
    root, tag = sys.argv[1], sys.argv[2]
    stats = {}
    cache = EmbeddingCache(root, {"model_identity": "shared"}, stats)
    for i in range(40):
        hashes = [f"{tag}-{i}-{j}" for j in range(8)] + [f"common-{j}" for j in range(8)]
        vectors = np.full((16, 4), i, dtype=np.float32)
        assert cache.store(hashes, vectors, [False] * 16), stats
        assert len(cache.lookup(hashes)) == 16
    print(stats)
""")


def test_two_concurrent_writers_never_corrupt_the_cache(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), tag],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for tag in ("a", "b")]
    for p in procs:
        out, err = p.communicate(timeout=600)  # a generous limit for a busy machine
        assert p.returncode == 0, err
        assert out.strip() == "{}"  # no corrupt entries, no write errors seen by either writer
    stats: dict = {}
    cache = EmbeddingCache(tmp_path, {"model_identity": "shared"}, stats)
    wanted = [f"{t}-{i}-{j}" for t in "ab" for i in range(40) for j in range(8)] + [f"common-{j}" for j in range(8)]
    found = cache.lookup(wanted)
    assert len(found) == len(wanted) and stats == {}
    assert float(found["b-7-3"][0][0]) == 7.0
    assert not list(tmp_path.rglob("*.tmp"))
