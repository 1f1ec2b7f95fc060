"""What detectors, datasets and metrics share: validated parameters and an id for messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel

from omniad.params import NoParams, Params, validate_params


class Component:
    """Base of ``Detector``, ``Dataset`` and ``Metric``.

    ``Component(params)`` and ``Component(**params)`` are the same; unknown parameters are
    rejected with the list of allowed ones.
    """

    Params: ClassVar[type[Params]] = NoParams
    kind: ClassVar[str] = "component"

    def __init__(
        self,
        params: BaseModel | Mapping[str, Any] | None = None,
        *,
        component_id: str | None = None,
        **overrides: Any,
    ) -> None:
        if overrides:
            base = params.model_dump() if isinstance(params, BaseModel) else dict(params or {})
            params = {**base, **overrides}
        self.component_id = component_id
        # Typed Any so subclasses read their own fields (self.params.window) without casts.
        self.params: Any = validate_params(type(self).Params, params, self.where)

    @property
    def where(self) -> str:
        """How error messages name this component."""
        return f"{self.kind} {self.component_id or type(self).__name__}"
