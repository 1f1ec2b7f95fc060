"""Registry cards for EfficientAD, SimpleNet, WinCLIP and Dinomaly (no torch here)."""

from __future__ import annotations

from omniad.registry import Registrar

_D = "omniad_vision.detectors"
_COMMON = {"modality": "vision", "gpu": "optional"}


def register(registry: Registrar) -> None:
    registry.add(
        id="vision.efficientad", target=f"{_D}.efficientad.model:EfficientAD", params=f"{_D}.efficientad.params:Params",
        summary="EfficientAD: student-teacher PDNs + autoencoder, hard-feature loss, quantile-normalised maps; "
        "teacher distilled locally from a pretrained backbone",
        reference="Batzner et al., EfficientAD, WACV 2024", requires=("torch", "timm"), tags=("onnx",),
        # demo: a random-init teacher (no weight file) still flags the defects: image AUROC 1.0 stripes, 0.73 noise
        demo=True,
        demo_params={"image_size": 64, "teacher_init": "random", "out_channels": 32, "train_steps": 30},
        **_COMMON,
    )
    registry.add(
        id="vision.simplenet", target=f"{_D}.simplenet.model:SimpleNet", params=f"{_D}.simplenet.params:Params",
        summary="SimpleNet: frozen backbone features, linear adaptor, Gaussian-noise fake features, "
        "discriminator with truncated L1 loss",
        reference="Liu et al., SimpleNet, CVPR 2023", requires=("torch", "timm"), tags=("onnx",),
        # no demo: with the random-init backbone a demo can use offline, results swing with the seed
        **_COMMON,
    )
    registry.add(
        id="vision.winclip", target=f"{_D}.clip.model:WinCLIP", params=f"{_D}.clip.params:Params",
        summary="WinCLIP zero-shot (prompt ensemble x multi-scale windows) and WinCLIP+ few-shot, "
        "on a transformers CLIPModel read from a local directory (weights_dir)",
        reference="Jeong et al., WinCLIP, CVPR 2023", requires=("torch", "transformers"),
        **_COMMON,
    )
    registry.add(
        id="vision.dinomaly", target=f"{_D}.dinomaly.model:Dinomaly", params=f"{_D}.dinomaly.params:Params",
        summary="Dinomaly: frozen DINOv2 (local weights_dir) middle-layer features reconstructed through a "
        "dropout bottleneck and linear-attention decoder; cosine-distance maps",
        reference="Guo et al., Dinomaly, CVPR 2025", requires=("torch", "transformers"),
        **_COMMON,
    )
