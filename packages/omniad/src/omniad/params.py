"""Parameter models: every component declares its parameters as a pydantic model.

Unknown parameters are errors (``extra="forbid"``) because a typo such as ``n_neighbours``
for ``n_neighbors`` would otherwise run a different experiment than the one asked for.
For the same reason a number-typed parameter takes only numbers: pydantic's lax mode
would read ``n_neighbors = true`` as 1 and ``"5"`` as 5, so the config that ran would not
be the config that was written. Strict mode is not used instead because it would also
reject what TOML and JSON can only spell as lists and strings (tuples, paths, enums).
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import PurePath
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from omniad.errors import ConfigError

P = TypeVar("P", bound=BaseModel)

_NUMBERS: tuple[type, ...] = (int, float, Decimal, complex)
_COERCION_ERROR = "omniad_no_coercion"


def annotation_members(annotation: Any) -> list[Any]:
    """The alternatives of a (possibly Annotated, possibly Optional) annotation."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        return [m for arg in get_args(annotation) for m in annotation_members(arg)]
    return [annotation]


def _is_number_type(member: Any) -> bool:
    return isinstance(member, type) and issubclass(member, _NUMBERS) and not issubclass(member, bool)


def _takes_str(member: Any, value: str) -> bool:
    """Whether ``member`` accepts this string as itself rather than by parsing it as a number."""
    if member is Any or isinstance(member, TypeVar):
        return True
    if get_origin(member) is Literal:
        return value in get_args(member)
    if isinstance(member, type):
        return issubclass(member, (str, PurePath)) or not (
            issubclass(member, (*_NUMBERS, bool, type(None), BaseModel, Sequence, Mapping, set, frozenset))
        )
    return False


def _takes_bool(member: Any, value: bool) -> bool:
    if member is Any or isinstance(member, TypeVar):
        return True
    if get_origin(member) is Literal:
        return value in get_args(member) and any(isinstance(a, bool) for a in get_args(member))
    return isinstance(member, type) and issubclass(member, bool)


def _name(annotation: Any) -> str:
    members = annotation_members(annotation)
    if len(members) > 1:
        return " | ".join(_name(m) for m in members)
    member = members[0]
    if get_origin(member) is Literal:
        return " | ".join(repr(a) for a in get_args(member))
    if isinstance(member, type):
        return "None" if member is type(None) else member.__name__
    return str(member).replace("typing.", "").replace("pathlib.", "")


def _element_types(member: Any, n: int) -> list[Any] | None:
    """Per-element annotations when ``member`` is a list/tuple/set type of ``n`` elements."""
    origin = get_origin(member)
    args = get_args(member)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return [args[0]] * n
        return list(args) if len(args) == n else None
    if origin in (list, set, frozenset) or (isinstance(origin, type) and issubclass(origin, Sequence)):
        return [args[0] if args else Any] * n
    return None


def coercion_problem(value: Any, annotation: Any) -> str | None:
    """Why ``value`` would only pass ``annotation`` by lax coercion to a number, else None."""
    members = annotation_members(annotation)
    if isinstance(value, bool):
        if any(_is_number_type(m) for m in members) and not any(_takes_bool(m, value) for m in members):
            return f"got the boolean {value!r}, expected {_name(annotation)} (true/false is not a number)"
        return None
    if isinstance(value, str):
        if any(_is_number_type(m) for m in members) and not any(_takes_str(m, value) for m in members):
            return f"got the string {value!r}, expected {_name(annotation)}; write the number without quotes"
        return None
    if isinstance(value, (list, tuple)):
        for member in members:
            elements = _element_types(member, len(value))
            if elements is None:
                continue
            for i, (item, item_type) in enumerate(zip(value, elements, strict=True)):
                problem = coercion_problem(item, item_type)
                if problem:
                    return f"item {i}: {problem}"
            return None
    if isinstance(value, Mapping):
        for member in members:
            if get_origin(member) is dict and len(get_args(member)) == 2:
                for key, item in value.items():
                    problem = coercion_problem(item, get_args(member)[1])
                    if problem:
                        return f"entry {key!r}: {problem}"
                return None
    return None


class Params(BaseModel):
    """Base for parameter models: strict about unknown keys and number types, immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())

    @field_validator("*", mode="before")
    @classmethod
    def _no_number_coercion(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is not None:
            problem = coercion_problem(value, field.annotation)
            if problem:
                raise PydanticCustomError(_COERCION_ERROR, problem)
        return value


class NoParams(Params):
    """For components without parameters."""


def format_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "(root)"
        if err["type"] == "extra_forbidden":
            parts.append(f"unknown parameter {loc!r}")
        elif err["type"] == _COERCION_ERROR:
            parts.append(f"{loc}: {err['msg']}")
        else:
            parts.append(f"{loc}: {err['msg']} (got {err.get('input')!r:.60})")
    return "; ".join(parts)


def validate_params(model: type[P], params: BaseModel | Mapping[str, Any] | None, where: str) -> P:
    """Turn user parameters into a validated model; fail with one line naming each problem."""
    if isinstance(params, model):
        return params
    if params is None:
        params = {}
    elif isinstance(params, BaseModel):
        params = params.model_dump()
    if not isinstance(params, Mapping):
        raise ConfigError(f"{where}: parameters must be a mapping, got {type(params).__name__}")
    try:
        return model.model_validate(dict(params))
    except ValidationError as exc:
        allowed = ", ".join(sorted(model.model_fields)) or "none"
        raise ConfigError(
            f"{where}: invalid parameters: {format_validation_error(exc)}; allowed parameters: {allowed}"
        ) from None
