"""The on-disk embedding cache, shared by every job of a grid and across runs.

Layout (no pickle anywhere)::

    <cache_dir>/<key>/key.json                 what the key stands for (model files' hash, pooling, ...)
    <cache_dir>/<key>/shards/<id>.safetensors  "embeddings": (n, d) float32, un-normalised;
                                               "row_keys": (n, 32) uint8, SHA-256 of each row's text hash;
                                               "truncated": (n,) uint8; metadata: the cache key
    <cache_dir>/<key>/shards/<id>.json         the shard's index: text hashes, rows truncated

``key`` hashes everything that changes the vectors; a text is found by the SHA-256 of its
UTF-8 bytes. The JSON index only says which shard to open: each row's key is stored again
inside the safetensors file, beside its vector, and the two must agree row by row (and the
file must name this cache key), so an index that was reordered, cut short or paired with
another shard's vectors is detected instead of serving the wrong vectors. Each writer only ever creates new files with unique names, written to a
temporary name and renamed into place, and the JSON index is renamed last: it is the
commit marker. So two processes filling the same cache never overwrite or half-read each
other (no locks needed), and a crash leaves at most an orphan ``.tmp`` file. Unreadable
or inconsistent shards are reported, skipped (and removed when the directory is writable),
and their texts recomputed; a cache directory that cannot be written is reported once and
the embeddings are computed without it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: 2: row keys and the cache key stored inside each shard (format 1 shards are not read)
CACHE_FORMAT = 2


class EmbeddingCacheWarning(UserWarning):
    """The embedding cache could not be read or written; embeddings were computed instead."""


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def row_keys(hashes: Sequence[str]) -> np.ndarray:
    """(n, 32) uint8: the SHA-256 of each row's key, stored inside the shard beside its vector."""
    return np.frombuffer(b"".join(hashlib.sha256(h.encode("utf-8")).digest() for h in hashes),
                         dtype=np.uint8).reshape(len(hashes), 32)


def cache_key(description: dict[str, Any]) -> str:
    payload = json.dumps({"format": CACHE_FORMAT, **description}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class EmbeddingCache:
    """One key's slice of the cache directory; counts what it could not read or write in ``stats``."""

    def __init__(self, root: Path, description: dict[str, Any], stats: dict[str, Any]) -> None:
        self.key = cache_key(description)
        self.description = {"format": CACHE_FORMAT, **description}
        self.dir = Path(root) / self.key
        self.shards = self.dir / "shards"
        self.stats = stats
        self._indexes: dict[str, dict[str, Any]] = {}  # shard name -> parsed index (files never change)
        self._write_failed = False

    def _warn(self, message: str) -> None:
        warnings.warn(f"text embedding cache: {message}", EmbeddingCacheWarning, stacklevel=3)

    def _corrupt(self, name: str, why: str, mismatch: bool = False) -> None:
        self.stats["cache_corrupt"] = self.stats.get("cache_corrupt", 0) + 1
        if mismatch:  # a readable shard whose rows disagree with its index: say how to clear it
            self.stats["cache_mismatch"] = self.stats.get("cache_mismatch", 0) + 1
            self._warn(f"entry {self.shards / name} does not match its index ({why}); it is removed and its "
                       f"texts are recomputed; if this repeats, delete the cache folder {self.dir}")
        else:
            self._warn(f"entry {self.shards / name} is unreadable ({why}); its texts are recomputed")
        for suffix in (".json", ".safetensors"):
            with contextlib.suppress(OSError):
                (self.shards / f"{name}{suffix}").unlink(missing_ok=True)

    def _index(self, name: str) -> dict[str, Any] | None:
        if name in self._indexes:
            return self._indexes[name]
        try:
            index = json.loads((self.shards / f"{name}.json").read_text())
            hashes = index["texts"]
            truncated = index.get("truncated", [])
            if not (isinstance(hashes, list) and all(isinstance(h, str) for h in hashes)):
                raise ValueError("texts is not a list of hashes")
            if index.get("format") != CACHE_FORMAT or index.get("n") != len(hashes):
                raise ValueError("format or row count does not match")
            index["truncated"] = {int(i) for i in truncated}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self._corrupt(name, f"{type(exc).__name__}: {str(exc)[:80]}")
            return None
        self._indexes[name] = index
        return index

    def lookup(self, hashes: Sequence[str]) -> dict[str, tuple[np.ndarray, bool]]:
        """Vectors (and whether the text was truncated) for the hashes the cache holds."""
        wanted = set(hashes)
        found: dict[str, tuple[np.ndarray, bool]] = {}
        try:
            names = sorted(p.name[: -len(".json")] for p in self.shards.glob("*.json") if not p.name.startswith("."))
        except OSError:
            return found
        for name in names:
            if not wanted:
                break
            index = self._index(name)
            if index is None:
                continue
            rows = [(i, h) for i, h in enumerate(index["texts"]) if h in wanted]
            if not rows:
                continue
            try:
                matrix, keys, truncated, key = self._read_shard(name)
                if matrix.ndim != 2 or matrix.shape[0] != index["n"] or matrix.shape[1] != index.get("dim"):
                    raise ValueError(f"shape {matrix.shape} does not match its index")
                if keys.shape != (index["n"], 32) or truncated.shape != (index["n"],):
                    raise ValueError("row keys or truncation flags have the wrong shape")
                if not np.isfinite(matrix).all():
                    raise ValueError("non-finite values")
            except Exception as exc:  # safetensors raises its own error types on truncated files
                self._indexes.pop(name, None)
                self._corrupt(name, f"{type(exc).__name__}: {str(exc)[:80]}")
                continue
            why = self._mismatch(index, keys, truncated, key)
            if why:
                self._indexes.pop(name, None)
                self._corrupt(name, why, mismatch=True)
                continue
            for i, h in rows:
                found[h] = (matrix[i].astype(np.float32, copy=True), bool(truncated[i]))
                wanted.discard(h)
        return found

    def _read_shard(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, str | None]:
        from safetensors import safe_open

        with safe_open(str(self.shards / f"{name}.safetensors"), framework="numpy") as fh:
            names = set(fh.keys())
            missing = {"embeddings", "row_keys", "truncated"} - names
            if missing:
                raise ValueError(f"no tensor {sorted(missing)}")
            key = (fh.metadata() or {}).get("cache_key")
            return fh.get_tensor("embeddings"), fh.get_tensor("row_keys"), fh.get_tensor("truncated"), key

    def _mismatch(self, index: dict[str, Any], keys: np.ndarray, truncated: np.ndarray, key: str | None) -> str:
        """Why the shard's rows and its index disagree ('' when they agree)."""
        if key != self.key:
            return f"its vectors belong to cache key {key!r}, not {self.key!r}"
        bad = np.flatnonzero((row_keys(index["texts"]) != keys).any(axis=1))
        if len(bad):
            return (f"{len(bad)} of {index['n']} rows hold another text's vector than the index says "
                    "(reordered or mixed-up index)")
        flags = np.zeros(index["n"], dtype=bool)
        flags[[i for i in index["truncated"] if 0 <= i < index["n"]]] = True
        if len(index["truncated"]) != int(flags.sum()) or not np.array_equal(flags, truncated.astype(bool)):
            return "its truncation flags differ from the rows'"
        return ""

    def store(self, hashes: Sequence[str], vectors: np.ndarray, truncated: Sequence[bool]) -> bool:
        if not len(hashes) or self._write_failed:
            return False
        from safetensors.numpy import save

        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index = {
            "format": CACHE_FORMAT, "n": len(hashes), "dim": int(vectors.shape[1]), "texts": list(hashes),
            "truncated": [i for i, t in enumerate(truncated) if t],
        }
        try:
            self.shards.mkdir(parents=True, exist_ok=True)
            key_file = self.dir / "key.json"
            if not key_file.is_file():
                _atomic_write(key_file, json.dumps(self.description, indent=2, sort_keys=True, default=str).encode())
            tensors = {"embeddings": vectors, "row_keys": row_keys(hashes),
                       "truncated": np.asarray([bool(t) for t in truncated], dtype=np.uint8)}
            _atomic_write(self.shards / f"{name}.safetensors", save(tensors, metadata={"cache_key": self.key}))
            _atomic_write(self.shards / f"{name}.json", json.dumps(index).encode())
        except OSError as exc:
            self._write_failed = True
            self.stats["cache_write_errors"] = self.stats.get("cache_write_errors", 0) + 1
            self._warn(f"cannot write to {self.dir} ({type(exc).__name__}: {exc.strerror or exc}); "
                       "embeddings are computed but not cached; pass a writable cache_dir or cache=false")
            return False
        self._indexes[name] = {**index, "truncated": set(index["truncated"])}
        return True
