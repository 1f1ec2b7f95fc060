"""Entry point of the ``omniad`` group: one detector card per catalog entry.

Reads the static catalog only, so listing the detectors imports neither PyOD nor
scikit-learn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from omniad import hookimpl

if TYPE_CHECKING:
    from omniad.registry import Registrar
    from omniad_pyod.catalog import ModelSpec

#: id prefixes this plugin owns (ids read ``pyod.<name>``); omniad refuses any other.
OMNIAD_PREFIXES = ("pyod",)

#: import names each PyOD-backed detector needs; ECOD and COPOD are scored by omniad itself.
PYOD_REQUIRES = ("pyod", "sklearn")


def _implementation(spec: ModelSpec) -> str:
    if spec.scoring == "ecdf":
        return f"PyOD {spec.class_name}'s score, computed against the training data only"
    return f"implementation: PyOD {spec.class_name}"


@hookimpl
def omniad_register_detectors(registry: Registrar) -> None:
    from omniad_pyod.catalog import CATALOG

    for spec in CATALOG.values():
        registry.add(
            id=spec.id,
            target=spec.target,
            params=spec.params_target,
            modality="tabular",
            summary=spec.summary,
            reference=f"{spec.reference}; {_implementation(spec)}",
            requires=() if spec.scoring == "ecdf" else PYOD_REQUIRES,
            tags=spec.tags,
            demo=spec.demo,
            fit_on="test" if spec.scoring == "transductive" else "train",
        )
