"""Pydantic parameter models, one per exposed PyOD detector, built from ``catalog``.

Generated rather than hand-written so that the catalog (checked against PyOD's signatures
by a test) is the single place an argument is described. Importing this module imports
pydantic and the catalog only, never PyOD: omniad imports it to validate run files and to
print ``omniad show pyod.knn``. Models are named ``<PyODClass>Params`` (``KNNParams``).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, create_model

from omniad import Params
from omniad_pyod.catalog import CATALOG, ModelSpec


class PyODParams(Params):
    """Base of the generated models: the arguments of one PyOD constructor, validated."""

    def pyod_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the PyOD constructor."""
        return self.model_dump()


def build_params_model(spec: ModelSpec) -> type[PyODParams]:
    fields: dict[str, Any] = {
        arg.name: (arg.type, Field(default=arg.default, description=arg.doc or None)) for arg in spec.args
    }
    model = create_model(f"{spec.class_name}Params", __base__=PyODParams, __module__=__name__, **fields)
    model.__doc__ = f"Arguments of PyOD's {spec.class_name} ({spec.pyod_class}); defaults are PyOD's."
    return model


MODELS: dict[str, type[PyODParams]] = {spec.name: build_params_model(spec) for spec in CATALOG.values()}
globals().update({model.__name__: model for model in MODELS.values()})
__all__ = ["MODELS", "PyODParams", "build_params_model", *(model.__name__ for model in MODELS.values())]
