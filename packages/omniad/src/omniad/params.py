"""Parameter models: every component declares its parameters as a pydantic model.

Unknown parameters are errors (``extra="forbid"``) because a typo such as ``n_neighbours``
for ``n_neighbors`` would otherwise run a different experiment than the one asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from omniad.errors import ConfigError

P = TypeVar("P", bound=BaseModel)


class Params(BaseModel):
    """Base for parameter models: strict about unknown keys, immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())


class NoParams(Params):
    """For components without parameters."""


def format_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "(root)"
        if err["type"] == "extra_forbidden":
            parts.append(f"unknown parameter {loc!r}")
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
