"""Declared fitted state: what a saved detector may hold, checked before any of it is used.

A model folder is input like any other file: it may be truncated, from another version or
edited by hand. Loading it must fail at ``load`` naming the folder and the entry, not at the
first ``score`` with ``mat1 and mat2 shapes cannot be multiplied`` far from the cause. So a
detector declares its state once, as a class attribute, and ``Detector.load`` checks the
saved entries against it before ``set_state`` sees them::

    class KNN(Detector):
        state_spec = declare(
            train_=Array("n", "d"),             # a float matrix; names its dimensions
            mean_=Array("d"),                   # ... so this must have the same d
            k_=Int(ge=1, le="n"),               # bounds may name a dimension
            window_=Int(ge=2, le="params.max_window"),  # or a parameter
            net=Module(),                       # every "net.*" array (a torch state dict)
        )

Dimension names are bound by the first entry that has them (arrays first, then ``Int(bind=)``)
and every other use must agree, so entries stay consistent with each other; ``params.<name>``
reads the detector's parameters (``None`` there means "not fixed"). Relations a table cannot
say go in ``Detector.check_state``. Specs of base classes are inherited and merged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from omniad.errors import DataError

#: a dimension: a fixed size, a name bound across entries, "params.<name>", or None (any size)
Dim = int | str | None
Bound = int | float | str | None

_KIND_NAMES = {"b": "bool", "i": "integer", "u": "unsigned integer", "f": "float"}


class StateError(DataError):
    """A saved state entry does not match what its detector declares."""


@dataclass
class Context:
    """What the checks of one saved state share: bound dimensions and the detector's parameters."""

    params: Any
    dims: dict[str, tuple[int, str]]  # name -> (size, entry that bound it)

    def resolve(self, ref: str, key: str) -> int | float | None:
        """The value of a dimension name or ``params.<name>``; None when not (yet) known."""
        if ref.startswith("params."):
            value = getattr(self.params, ref.split(".", 1)[1], None)
            if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
                return None
            return value
        bound = self.dims.get(ref)
        return None if bound is None else bound[0]

    def bind(self, name: str, size: int, key: str, what: str) -> None:
        if name.startswith("params."):
            want = self.resolve(name, key)
            if want is not None and size != want:
                raise StateError(f"{what} is {size} but {name} is {want}")
            return
        if name in self.dims and self.dims[name][0] != size:
            other_size, other = self.dims[name]
            raise StateError(f"{what} is {size} but {other!r} says {name} = {other_size}")
        self.dims.setdefault(name, (size, key))


def _check_bounds(value: float, spec: Any, ctx: Context, key: str) -> None:
    for attr, ok, word in (("ge", lambda v, b: v >= b, ">="), ("gt", lambda v, b: v > b, ">"),
                           ("le", lambda v, b: v <= b, "<="), ("lt", lambda v, b: v < b, "<")):
        bound = getattr(spec, attr, None)
        if bound is None:
            continue
        limit = ctx.resolve(bound, key) if isinstance(bound, str) else bound
        if limit is None:
            continue
        if not ok(value, limit):
            named = f"{bound} = {limit}" if isinstance(bound, str) else str(limit)
            raise StateError(f"is {value!r}, must be {word} {named}")


class Spec:
    """One declared entry. ``optional``: may be absent or None."""

    optional: bool = False

    def describe(self) -> str:
        raise NotImplementedError

    def check(self, value: Any, ctx: Context, key: str) -> None:
        raise NotImplementedError

    def bind(self, value: Any, ctx: Context, key: str) -> None:
        """First pass: bind the dimension names this entry fixes."""


@dataclass(frozen=True, init=False)
class Array(Spec):
    """A numpy array (stored in ``arrays.safetensors``) of the given dimensions and number kinds."""

    shape: tuple[Dim, ...] | None
    kinds: str
    finite: bool
    optional: bool
    min_size: int

    def __init__(self, *shape: Dim, kinds: str = "f", finite: bool = True, optional: bool = False,
                 any_shape: bool = False, min_size: int = 1) -> None:
        object.__setattr__(self, "shape", None if any_shape else tuple(shape))
        object.__setattr__(self, "kinds", kinds)
        object.__setattr__(self, "finite", finite)
        object.__setattr__(self, "optional", optional)
        object.__setattr__(self, "min_size", min_size)

    def describe(self) -> str:
        kinds = "/".join(_KIND_NAMES[k] for k in self.kinds)
        dims = "any shape" if self.shape is None else "(" + ", ".join("?" if d is None else str(d) for d in self.shape) + ")"
        return f"a {kinds} array of shape {dims}"

    def _array(self, value: Any) -> np.ndarray:
        if not isinstance(value, np.ndarray):
            raise StateError(f"is a {type(value).__name__}, not {self.describe()}")
        return value

    def bind(self, value: Any, ctx: Context, key: str) -> None:
        if value is None or self.shape is None:
            return
        arr = self._array(value)
        if arr.ndim != len(self.shape):
            raise StateError(f"has shape {arr.shape}, not {len(self.shape)}-dimensional ({self.describe()})")
        for axis, (dim, size) in enumerate(zip(self.shape, arr.shape, strict=True)):
            if isinstance(dim, str):
                ctx.bind(dim, int(size), key, f"has shape {arr.shape}: axis {axis}")

    def check(self, value: Any, ctx: Context, key: str) -> None:
        arr = self._array(value)
        if arr.dtype.kind not in self.kinds:
            raise StateError(f"has dtype {arr.dtype}, not {self.describe()}")
        if self.shape is not None:
            for axis, (dim, size) in enumerate(zip(self.shape, arr.shape, strict=True)):
                if isinstance(dim, int) and size != dim:
                    raise StateError(f"has shape {arr.shape}: axis {axis} must be {dim}")
        if arr.size < self.min_size:
            raise StateError(f"has shape {arr.shape}, fewer than {self.min_size} values")
        if self.finite and arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise StateError("holds NaN or infinite values")


@dataclass(frozen=True, init=False)
class Int(Spec):
    """A JSON integer (bools are not integers), optionally bounded; ``bind`` names it as a dimension."""

    ge: Bound = None
    gt: Bound = None
    le: Bound = None
    lt: Bound = None
    bind_as: str | None = None
    optional: bool = False

    def __init__(self, *, ge: Bound = None, gt: Bound = None, le: Bound = None, lt: Bound = None,
                 bind: str | None = None, optional: bool = False) -> None:
        for name, value in (("ge", ge), ("gt", gt), ("le", le), ("lt", lt), ("bind_as", bind), ("optional", optional)):
            object.__setattr__(self, name, value)

    def describe(self) -> str:
        return "an integer"

    def _int(self, value: Any) -> int:
        if isinstance(value, np.integer):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise StateError(f"is {_short(value)}, not an integer")
        return value

    def bind(self, value: Any, ctx: Context, key: str) -> None:
        if value is not None and self.bind_as is not None:
            ctx.bind(self.bind_as, self._int(value), key, "value")

    def check(self, value: Any, ctx: Context, key: str) -> None:
        _check_bounds(self._int(value), self, ctx, key)


@dataclass(frozen=True)
class Float(Spec):
    """A finite JSON number (ints accepted), optionally bounded."""

    ge: Bound = None
    gt: Bound = None
    le: Bound = None
    lt: Bound = None
    optional: bool = False
    finite: bool = True

    def describe(self) -> str:
        return "a number"

    def check(self, value: Any, ctx: Context, key: str) -> None:
        if isinstance(value, np.floating | np.integer):
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise StateError(f"is {_short(value)}, not a number")
        if self.finite and not math.isfinite(value):
            raise StateError(f"is {value}, not a finite number")
        _check_bounds(float(value), self, ctx, key)


@dataclass(frozen=True)
class Str(Spec):
    """A JSON string, optionally one of ``choices``."""

    choices: tuple[str, ...] | None = None
    optional: bool = False

    def describe(self) -> str:
        return "a string" if not self.choices else "one of " + ", ".join(repr(c) for c in self.choices)

    def check(self, value: Any, ctx: Context, key: str) -> None:
        if not isinstance(value, str):
            raise StateError(f"is {_short(value)}, not {self.describe()}")
        if self.choices is not None and value not in self.choices:
            raise StateError(f"is {value!r}, not {self.describe()}")


@dataclass(frozen=True)
class Bool(Spec):
    optional: bool = False

    def describe(self) -> str:
        return "true or false"

    def check(self, value: Any, ctx: Context, key: str) -> None:
        if not isinstance(value, (bool, np.bool_)):
            raise StateError(f"is {_short(value)}, not true or false")


@dataclass(frozen=True)
class Json(Spec):
    """A JSON list or object whose inside the detector checks itself (``check_state`` / ``set_state``).

    ``items``: a spec every element (of a list) or value (of an object) must meet; ``length``:
    a dimension name or ``params.<name>`` the list's length must match (or bind).
    """

    types: tuple[type, ...] = (list, dict)
    items: Spec | None = None
    length: str | None = None
    optional: bool = False

    def describe(self) -> str:
        return " or ".join("a list" if t is list else "an object" if t is dict else t.__name__ for t in self.types)

    def bind(self, value: Any, ctx: Context, key: str) -> None:
        if self.length is not None and isinstance(value, (list, dict)):
            ctx.bind(self.length, len(value), key, "has length")

    def check(self, value: Any, ctx: Context, key: str) -> None:
        if not isinstance(value, self.types):
            raise StateError(f"is {_short(value)}, not {self.describe()}")
        if self.items is not None:
            data: Any = value  # isinstance on a tuple of types would narrow it to object
            values: list[Any] = list(data.values()) if isinstance(data, dict) else list(data)
            for i, item in enumerate(values):
                try:
                    self.items.check(item, ctx, key)
                except StateError as exc:
                    raise StateError(f"item {i} {exc}") from None


@dataclass(frozen=True)
class Module(Spec):
    """Every array under ``<key>.`` (a torch state dict from ``omniad.torchstate``).

    Their shapes are checked by ``load_state_dict(strict=True)`` when ``set_state`` rebuilds
    the network from the parameters; here they must be finite numbers.
    """

    optional: bool = False
    finite: bool = True

    def describe(self) -> str:
        return "the arrays of a torch module"

    def check(self, value: Any, ctx: Context, key: str) -> None:
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
            raise StateError(f"is {_short(value)}, not a number array")
        if self.finite and value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            raise StateError("holds NaN or infinite values")


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def declare(entries: Mapping[str, Spec] | None = None, /, **named: Spec) -> Mapping[str, Spec]:
    """A read-only state declaration: ``declare(train_=Array("n", "d"))`` (or a mapping for odd keys)."""
    merged = {**(entries or {}), **named}
    for key, spec in merged.items():
        if not isinstance(spec, Spec):
            raise TypeError(f"state entry {key!r}: {spec!r} is not an omniad.state spec")
    return MappingProxyType(merged)


def merged_spec(cls: type) -> dict[str, Spec] | None:
    """``state_spec`` of ``cls`` merged over its bases (subclass entries win); None if none declares one."""
    merged: dict[str, Spec] = {}
    declared = False
    for klass in reversed(cls.__mro__):
        spec = klass.__dict__.get("state_spec")
        if spec is not None:
            declared = True
            merged.update(spec)
    return merged if declared else None


def entry_spec(spec: Mapping[str, Spec], key: str) -> tuple[str, Spec] | None:
    """The declaration covering ``key``: its own, or the ``Module`` whose prefix it has."""
    if key in spec:
        return key, spec[key]
    for name, entry in spec.items():
        if isinstance(entry, Module) and key.startswith(name + "."):
            return name, entry
    return None


def validate(
    spec: Mapping[str, Spec], state: Mapping[str, Any], params: Any, *, where: str,
) -> tuple[dict[str, Any], list[str]]:
    """The declared entries of ``state`` after checking them, and the undeclared keys left out.

    Raises ``StateError`` naming the first entry that does not match, with the expectation.
    """
    ctx = Context(params=params, dims={})
    missing = [k for k, s in spec.items() if not s.optional and not isinstance(s, Module) and k not in state]
    missing += [k for k, s in spec.items() if isinstance(s, Module) and not s.optional
                and not any(x.startswith(k + ".") for x in state)]
    if missing:
        raise StateError(f"{where}: saved state lacks {', '.join(repr(k) for k in missing)}")
    kept: dict[str, Any] = {}
    covered: list[tuple[str, str, Spec]] = []
    ignored = []
    for key, value in state.items():
        found = entry_spec(spec, key)
        if found is None:
            ignored.append(key)
            continue
        kept[key] = value
        covered.append((key, found[0], found[1]))
    # arrays first, so a scalar's bound can name a dimension an array fixes
    order = sorted(covered, key=lambda c: not isinstance(c[2], Array))
    for phase in ("bind", "check"):
        for key, _name, entry in order:
            value = kept[key]
            if value is None:
                if entry.optional:
                    continue
                raise StateError(f"{where}: saved state {key!r} is null, not {entry.describe()}")
            try:
                getattr(entry, phase)(value, ctx, key)
            except StateError as exc:
                raise StateError(f"{where}: saved state {key!r} {exc}") from None
    return kept, ignored
