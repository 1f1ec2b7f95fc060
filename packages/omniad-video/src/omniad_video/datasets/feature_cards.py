"""Registry cards for the pre-extracted feature datasets (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar

_P = "omniad_video.datasets"
METRICS = ("core.local_auroc", "core.local_aupr", "video.frame_auroc_macro")


def register(registry: Registrar) -> None:
    common = {"modality": "video", "localization": "frame", "sample_kind": "features", "metrics": METRICS}
    registry.add(
        id="video.synthetic_features", target=f"{_P}.features:SyntheticFeatures",
        split_seed_param="seed",
        params=f"{_P}.feature_params:SyntheticFeaturesParams", **common, demo=True,
        demo_params={"n_train_normal": 8, "n_train_anomalous": 8, "n_test_normal": 4, "n_test_anomalous": 4, "dim": 32},
        summary="Synthetic segment features: anomalous videos hold a run of shifted segments; weak labels on train",
    )
    registry.add(
        id="video.ucf_crime", target=f"{_P}.features:UCFCrime", params=f"{_P}.feature_params:UCFCrimeParams",
        **common, needs_data=True, reference="Sultani, Chen & Shah, CVPR 2018 (UCF-Crime)",
        summary="UCF-Crime C3D features (32 x 4096 per video) with the .mat temporal annotations; frame counts "
        "from a file; default root $OMNIAD_SHARED_DATA/data/ucf_crime_c3d_sample",
    )
    registry.add(
        id="video.rtfm", target=f"{_P}.features:RTFMFeatures", params=f"{_P}.feature_params:RTFMParams", **common,
        needs_data=True, reference="Tian et al., ICCV 2021 (RTFM)",
        summary="RTFM-style T x crops x D .npy features, list files with weak labels, per-frame .npy labels",
    )
