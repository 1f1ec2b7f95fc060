"""The on-disk embedding cache, shared by every job of a grid and across runs.

Layout (no pickle anywhere)::

    <cache_dir>/<key>/key.json                 what the key stands for (model files' hash, pooling, ...)
    <cache_dir>/<key>/shards/<id>.safetensors  tensor "embeddings": (n, d) float32, un-normalised
    <cache_dir>/<key>/shards/<id>.json         the shard's index: text hashes, rows truncated

``key`` hashes everything that changes the vectors; a text is found by the SHA-256 of its
UTF-8 bytes. Each writer only ever creates new files with unique names, written to a
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

CACHE_FORMAT = 1


class EmbeddingCacheWarning(UserWarning):
    """The embedding cache could not be read or written; embeddings were computed instead."""


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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

    def _corrupt(self, name: str, why: str) -> None:
        self.stats["cache_corrupt"] = self.stats.get("cache_corrupt", 0) + 1
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
                from safetensors.numpy import load_file

                matrix = load_file(str(self.shards / f"{name}.safetensors"))["embeddings"]
                if matrix.ndim != 2 or matrix.shape[0] != index["n"] or matrix.shape[1] != index.get("dim"):
                    raise ValueError(f"shape {matrix.shape} does not match its index")
                if not np.isfinite(matrix).all():
                    raise ValueError("non-finite values")
            except Exception as exc:  # safetensors raises its own error types on truncated files
                self._indexes.pop(name, None)
                self._corrupt(name, f"{type(exc).__name__}: {str(exc)[:80]}")
                continue
            for i, h in rows:
                found[h] = (matrix[i].astype(np.float32, copy=True), i in index["truncated"])
                wanted.discard(h)
        return found

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
            _atomic_write(self.shards / f"{name}.safetensors", save({"embeddings": vectors}))
            _atomic_write(self.shards / f"{name}.json", json.dumps(index).encode())
        except OSError as exc:
            self._write_failed = True
            self.stats["cache_write_errors"] = self.stats.get("cache_write_errors", 0) + 1
            self._warn(f"cannot write to {self.dir} ({type(exc).__name__}: {exc.strerror or exc}); "
                       "embeddings are computed but not cached; pass a writable cache_dir or cache=false")
            return False
        self._indexes[name] = {**index, "truncated": set(index["truncated"])}
        return True
