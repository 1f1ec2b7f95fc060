"""Registry cards for PatchCore, PaDiM, Gaussian MVG and the random baseline (no torch here).

One ``register_*`` per model folder; ``register`` calls them all.
"""

from __future__ import annotations

from omniad.registry import Registrar

_D = "omniad_vision.detectors"
_COMMON = {"modality": "vision", "requires": ("torch", "timm")}
#: tiny random-init backbone for the demo: no weight file needed, runs in seconds on CPU, and
#: still separates the synthetic defects (image AUROC 1.0 on stripes/noise, see the tests)
DEMO_BACKBONE = {"backbone": "resnet18", "layers": ["layer1", "layer2"], "weights": "random", "image_size": 64}


def register_patchcore(registry: Registrar) -> None:
    registry.add(
        id="vision.patchcore", target=f"{_D}.patchcore.detector:PatchCore", params=f"{_D}.patchcore.params:PatchCoreParams",
        summary="PatchCore: coreset memory bank of locally aware patch features, kNN distance maps "
        "(demo: random-init resnet18, which still finds the synthetic defects)",
        reference="Roth et al., Towards Total Recall in Industrial Anomaly Detection, CVPR 2022",
        gpu="optional", demo=True, demo_params=DEMO_BACKBONE, tags=("memory-bank", "onnx"), **_COMMON,
    )


def register_padim(registry: Registrar) -> None:
    registry.add(
        id="vision.padim", target=f"{_D}.padim.detector:PaDiM", params=f"{_D}.padim.params:PaDiMParams",
        summary="PaDiM: a Gaussian per patch position over random channels of backbone embeddings, Mahalanobis maps "
        "(demo: random-init resnet18)",
        reference="Defard et al., PaDiM, ICPR 2020 workshops",
        gpu="optional", demo=True, demo_params={**DEMO_BACKBONE, "n_features": 64}, tags=("gaussian", "onnx"),
        **_COMMON,
    )


def register_gaussian(registry: Registrar) -> None:
    registry.add(
        id="vision.gaussian_mvg", target=f"{_D}.gaussian.detector:GaussianMVG",
        params=f"{_D}.gaussian.params:GaussianMVGParams",
        summary="Gaussian MVG: Ledoit-Wolf Gaussians of globally pooled features per level, summed Mahalanobis "
        "distances, optional NPCA (image-level only, no maps)",
        reference="Rippel et al., Modeling the Distribution of Normal Data in Pre-Trained Deep Features, ICPR 2020",
        gpu="optional", tags=("gaussian", "image-level"), **_COMMON,
    )


def register_random(registry: Registrar) -> None:
    registry.add(
        id="vision.random", target=f"{_D}.baseline.random:RandomVision", modality="vision",
        summary="Random image scores and pixel maps, fixed per image and seed (the floor to beat)", demo=True,
    )


def register(registry: Registrar) -> None:
    register_patchcore(registry)
    register_padim(registry)
    register_gaussian(registry)
    register_random(registry)
