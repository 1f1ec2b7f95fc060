"""Reading users' ``.npy`` / ``.npz`` files so that a damaged or edited file is named, never half loaded.

``np.load`` alone is not enough for files a user hands in:

* it reads as many values as the header's shape declares and ignores the bytes after them, so a
  header whose shape was edited (or written by a buggy tool) silently loads part of the data;
* a header that declares more than the file holds makes it allocate the whole declared array
  before it finds out;
* its failures are library errors that name no file: ``tokenize.TokenError`` for a garbled
  header, ``zlib.error`` for a damaged ``.npz`` member, ``NotImplementedError`` for an unknown
  zip method, ``EOFError``, ``zipfile.BadZipFile`` ...;
* object arrays need pickle, which omniad never allows on user files (it runs code).

Here the header is read first and checked against the bytes that follow; every problem is one
:class:`~omniad.errors.DataError` naming the file (and the array of an ``.npz``) and how to save
it again. Callers check dtype and shape for their meaning (``kinds`` covers the common case).
"""

from __future__ import annotations

import tokenize
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np

from omniad.errors import DataError

__all__ = ["NpzArrays", "load_npy", "load_npz"]

#: what numpy and zipfile raise on a damaged file: a garbled header is tokenised (TokenError,
#: SyntaxError), a damaged deflate stream fails in zlib, an unknown zip method or version is
#: NotImplementedError and an encrypted member RuntimeError
_BROKEN = (
    ValueError,
    OSError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
    tokenize.TokenError,
    SyntaxError,
    NotImplementedError,
    RuntimeError,
    MemoryError,
)
_VERSIONS = ((1, 0), (2, 0), (3, 0))
_KIND_NAMES = {"b": "bool", "i": "integer", "u": "unsigned integer", "f": "float", "c": "complex"}


def load_npy(path: str | Path, *, what: str, kinds: str | None = None, where: str = "") -> np.ndarray:
    """The array in the ``.npy`` file ``path``, which should hold ``what`` (e.g. "frame labels").

    ``kinds``: the dtype kinds accepted (``"biuf"``: numbers); others fail naming the dtype.
    ``where``: a prefix for messages (the dataset's id), as the caller's own errors have.
    """
    path = Path(path)
    pre = f"{where}: " if where else ""
    if not path.is_file():
        raise _missing(pre, path, what)
    try:
        with open(path, "rb") as fh:
            arr = _read(fh, path.stat().st_size, _Names(pre, path, None, what))
    except DataError:
        raise
    except _BROKEN as exc:
        raise DataError(
            f"{pre}{path}: not a NumPy array file ({_reason(exc)}); save the {what} again with np.save"
        ) from None
    return _kinds(arr, kinds, _Names(pre, path, None, what))


def load_npz(path: str | Path, *, what: str, where: str = "") -> NpzArrays:
    """The arrays of the ``.npz`` file ``path``, each read (and checked) when first asked for.

    Lazy like ``np.load``'s ``NpzFile``: a damaged array the caller never reads does not fail.
    """
    return NpzArrays(path, what=what, where=where)


class NpzArrays(Mapping[str, np.ndarray]):
    """An ``.npz`` file's arrays by name; the archive's table of contents is checked on opening."""

    def __init__(self, path: str | Path, *, what: str, where: str = "") -> None:
        self.path, self.what, self._pre = Path(path), what, f"{where}: " if where else ""
        if not self.path.is_file():
            raise _missing(self._pre, self.path, what)
        try:
            with zipfile.ZipFile(self.path) as zf:
                members = zf.namelist()
        except _BROKEN as exc:
            raise self._broken(f".npz: {_reason(exc)}") from None
        self._keys = [n[:-4] for n in members if n.endswith(".npy")]

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._keys:
            raise KeyError(key)
        names = _Names(self._pre, self.path, key, self.what)
        with self._open(f"{key}.npy") as (fh, size):
            try:
                return _read(fh, size, names)
            except DataError:
                raise
            except _BROKEN as exc:
                raise DataError(
                    f"{names.head} is not readable ({_reason(exc)}); save the {self.what} again with np.savez"
                ) from None

    @contextmanager
    def _open(self, member: str) -> Iterator[tuple[IO[bytes], int]]:
        """The member's stream; failing to open it (damaged archive, unknown zip method) is the archive's fault."""
        try:
            zf = zipfile.ZipFile(self.path)
        except _BROKEN as exc:
            raise self._broken(f".npz: {_reason(exc)}") from None
        with zf:
            try:
                info = zf.getinfo(member)
                fh = zf.open(info)
            except _BROKEN as exc:
                raise self._broken(f".npz: {_reason(exc)}") from None
            with fh:
                yield fh, info.file_size

    def array(self, key: str, *, kinds: str | None = None) -> np.ndarray:
        """``self[key]`` with its dtype kind checked (see :func:`load_npy`)."""
        return _kinds(self[key], kinds, _Names(self._pre, self.path, key, self.what))

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def _broken(self, reason: str) -> DataError:
        return DataError(
            f"{self._pre}{self.path}: not a NumPy array file ({reason}); save the {self.what} again with np.savez"
        )


class _Names:
    """How messages name the file, the array (in an ``.npz``) and the tool that writes it again."""

    def __init__(self, pre: str, path: Path, key: str | None, what: str) -> None:
        self.file = f"{pre}{path}"
        self.head = f"{self.file}: array {key!r}" if key is not None else self.file
        self.key, self.what = key, what
        self.save = "np.savez" if key is not None else "np.save"


def _read(fh: IO[bytes], size: int, n: _Names) -> np.ndarray:
    """The array at ``fh`` (``size`` bytes in all), its header checked against the bytes after it."""
    fmt = np.lib.format
    if fh.read(2) == b"PK":
        raise DataError(
            f"{n.head}: holds a zip archive (an .npz), not one .npy array; save the {n.what} with {n.save}"
        )
    fh.seek(0)
    version = fmt.read_magic(fh)
    if version not in _VERSIONS:
        raise ValueError(f"unknown .npy format version {version[0]}.{version[1]}")
    read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
    shape, _, dtype = read_header(fh)
    if dtype.hasobject:
        raise DataError(
            f"{n.head}{' is' if n.key is not None else ': holds'} an object array (shape {shape}: Python "
            "objects, e.g. a list of arrays of different lengths, need pickle to load); omniad reads numeric "
            f"arrays only: save the {n.what} as one numeric array, e.g. "
            f"{n.save}(path, np.asarray(values, dtype=float))"
        )
    if any(d < 0 for d in shape):
        raise ValueError(f"the header declares a negative dimension in shape {shape}")
    held = size - fh.tell()
    declared = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if held > declared:
        raise DataError(
            f"{n.head}: the header declares shape {shape} of {dtype} ({declared} bytes) but {held} bytes "
            f"follow it: a wrong shape would load part of the data; save the whole {n.what} again with {n.save}"
        )
    if held < declared:
        raise EOFError(
            f"truncated: the header declares shape {shape} of {dtype} ({declared} bytes) but only {held} "
            "bytes follow it"
        )
    fh.seek(0)
    return np.load(fh, allow_pickle=False)


def _missing(pre: str, path: Path, what: str) -> DataError:
    there = "not a regular file" if path.exists() else "no such file"
    return DataError(f"{pre}{path}: {there} (it should hold the {what})")


def _kinds(arr: np.ndarray, kinds: str | None, n: _Names) -> np.ndarray:
    if kinds is None or arr.dtype.kind in kinds:
        return arr
    names = [_KIND_NAMES.get(k, k) for k in kinds]
    wanted = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
    raise DataError(
        f"{n.head}: holds {arr.dtype} values (shape {arr.shape}); the {n.what} must be numbers ({wanted}): "
        f"save them as such, e.g. {n.save}(path, np.asarray(values, dtype=float))"
    )


def _reason(exc: BaseException) -> str:
    """The library's message with its type: 'Error -3 while decompressing' alone does not say it is zlib's."""
    kind = type(exc).__name__
    if type(exc).__module__ != "builtins":
        kind = f"{type(exc).__module__}.{kind}"
    return f"{kind}: {exc}"
