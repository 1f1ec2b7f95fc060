"""One omniad detector class per PyOD-backed catalog entry, named like the PyOD class.

Classes are generated from the catalog so an entry is described in one place; they are
module attributes (``omniad_pyod.detectors:KNN``) because cards and saved models name
them that way. ECOD and COPOD live in ``omniad_pyod.ecdf``.
"""

from __future__ import annotations

from omniad.state import Array, Int, declare
from omniad_pyod.adapter import PyODBase, PyODDetector, TransductivePyODDetector
from omniad_pyod.catalog import CATALOG, ModelSpec
from omniad_pyod.params import MODELS


def build_detector_class(spec: ModelSpec) -> type[PyODBase]:
    base = TransductivePyODDetector if spec.scoring == "transductive" else PyODDetector
    doc = f"PyOD {spec.class_name} as an omniad detector ({spec.id}): {spec.summary}."
    namespace = {"__module__": __name__, "__qualname__": spec.class_name, "__doc__": doc,
                 "spec": spec, "Params": MODELS[spec.name]}
    width = spec.n_features
    if width is not None:  # a single-feature model (MAD): its saved width is fixed too
        fixed = Int(ge=width, le=width)
        namespace["state_spec"] = (
            declare(n_features_=fixed) if base is TransductivePyODDetector else declare(train_=Array("n", width))
        )
    return type(spec.class_name, (base,), namespace)


CLASSES: dict[str, type[PyODBase]] = {
    spec.name: build_detector_class(spec) for spec in CATALOG.values() if spec.scoring != "ecdf"
}
globals().update({cls.__name__: cls for cls in CLASSES.values()})
__all__ = ["CLASSES", "build_detector_class", *(cls.__name__ for cls in CLASSES.values())]
