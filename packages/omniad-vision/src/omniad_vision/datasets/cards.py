"""Registry cards for vision datasets (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar

_P = "omniad_vision.datasets.params"
# The MVTec AD protocol: image AUROC first, then pixel AUROC and AUPRO (FPR <= 0.3).
_METRICS = ("core.auroc", "core.local_auroc", "vision.aupro", "core.aupr", "core.f1_max", "core.local_f1_max")
_COMMON = {"modality": "vision", "localization": "pixel", "metrics": _METRICS}
_PROBE = "omniad_vision.datasets.probes"
#: what a bare path opens (`omniad fit / score`): every image scored, those not labelled anomalous fitted on
_ALL = {"path_param": "root", "source_params": {"split": "all"}, "reads": ("/",)}
#: image files vision.folder opens (also `.webp`, which the image reader decodes)
IMAGE_READS = ("/", ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def register(registry: Registrar) -> None:
    registry.add(
        id="vision.mvtec", target="omniad_vision.datasets.mvtec:MVTecAD", params=f"{_P}:MVTecParams",
        summary="MVTec AD (15 categories, pixel masks); root defaults to $OMNIAD_SHARED_DATA/data/mvtec",
        reference="Bergmann et al., CVPR 2019", needs_data=True, **_COMMON, **_ALL, probe=f"{_PROBE}:mvtec",
    )
    registry.add(
        id="vision.mpdd", target="omniad_vision.datasets.mvtec:MPDD", params=f"{_P}:MPDDParams",
        summary="MPDD metal-part defects in the MVTec layout; root defaults to $OMNIAD_SHARED_DATA/data/mpdd",
        reference="Jezek et al., ICUMT 2021", needs_data=True, **_COMMON, **_ALL, probe=f"{_PROBE}:mpdd",
    )
    registry.add(
        id="vision.btad", target="omniad_vision.datasets.mvtec:BTAD", params=f"{_P}:BTADParams",
        summary="BTAD (3 products, ok/ko folders, pixel masks); root defaults to $OMNIAD_SHARED_DATA/data/btad",
        reference="Mishra et al., ISIE 2021", needs_data=True, **_COMMON, **_ALL, probe=f"{_PROBE}:btad",
    )
    registry.add(
        id="vision.visa", target="omniad_vision.datasets.visa:VisA", params=f"{_P}:VisAParams",
        summary="VisA (12 objects) via split_csv/1cls.csv; root defaults to $OMNIAD_SHARED_DATA/data/visa",
        reference="Zou et al., ECCV 2022", needs_data=True, **_COMMON, **_ALL, probe=f"{_PROBE}:visa",
    )
    registry.add(
        id="vision.folder", target="omniad_vision.datasets.folder:ImageFolder", params=f"{_P}:FolderParams",
        split_seed_param="seed",
        summary="Your own images: any folder of images or one image file (labels from good/<defect> folders and "
        "masks where present, else unlabelled), or a normal folder, an optional anomalous folder and masks",
        needs_data=True, **_COMMON, path_param="root", source_params={"split": "all"}, reads=IMAGE_READS,
        probe=f"{_PROBE}:folder",
    )
    registry.add(
        id="vision.synthetic", target="omniad_vision.datasets.synthetic:Synthetic", params=f"{_P}:SyntheticParams",
        split_seed_param="seed",
        summary="Procedural textures with Perlin-region, cut-paste and scratch defects (pixel masks, seeded)",
        reference="defect recipes of DRAEM (Zavrtanik et al. 2021) and CutPaste (Li et al. 2021)",
        demo=True, demo_params={"textures": ["stripes", "noise"], "n_train": 16, "n_test_normal": 8, "n_test_anomalous": 8},
        **_COMMON,
    )
    registry.add(
        id="vision.synthetic_multi", target="omniad_vision.datasets.multiclass:MultiClass",
        params="omniad_vision.datasets.multiclass:MultiClassParams", split_seed_param="seed",
        summary="Seven synthetic categories (4 textures, 3 objects) with defects and masks; one-class, or cross-class "
        "(train_categories / test_categories, reference_shots normal shots of the scored category in train)",
        reference="defect recipes of DRAEM and CutPaste; cross-class protocol of ResAD (Yao et al. 2024)", **_COMMON,
    )
