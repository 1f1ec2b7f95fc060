"""Registry cards for the frame and video-file datasets (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar

_P = "omniad_video.datasets"
METRICS = ("core.local_auroc", "video.frame_auroc_macro", "core.local_aupr")


def register(registry: Registrar) -> None:
    common = {"modality": "video", "localization": "frame", "sample_kind": "frames", "metrics": METRICS}
    registry.add(
        id="video.synthetic", target=f"{_P}.synthetic:Synthetic", params=f"{_P}.params:SyntheticParams",
        split_seed_param="seed",
        **{**common, "metrics": (*METRICS, "core.auroc")},  # test videos both normal and anomalous: video AUROC too
        demo=True, demo_params={"n_train": 2, "n_test_normal": 1, "n_test_per_anomaly": 1, "n_frames": 24},
        summary="Seeded discs walking along lanes; anomalies: a disc too fast, one walking the wrong way, an unexpected object",
    )
    registry.add(
        id="video.ucsd", target=f"{_P}.frames:UCSD", params=f"{_P}.params:UCSDParams", **common, needs_data=True,
        reference="Mahadevan et al., CVPR 2010 (UCSD Anomaly Detection Dataset)",
        summary="UCSD Ped1 / Ped2 frame folders with the frame ranges of the .m ground-truth file",
    )
    registry.add(
        id="video.shanghaitech", target=f"{_P}.frames:FrameMasks", params=f"{_P}.params:FramesParams", **common,
        needs_data=True, reference="Liu et al., CVPR 2018 (ShanghaiTech Campus)",
        summary="ShanghaiTech Campus frame folders with per-video test_frame_mask/*.npy labels",
    )
    registry.add(
        id="video.avenue", target=f"{_P}.frames:Avenue", params=f"{_P}.params:FramesParams", **common,
        needs_data=True, reference="Lu, Shi & Jia, ICCV 2013 (CUHK Avenue)",
        summary="CUHK Avenue in the frame-folder release (frames + per-video .npy frame labels)",
    )
    registry.add(
        id="video.files", target=f"{_P}.files:VideoFiles", params=f"{_P}.params:FilesParams", **common,
        needs_data=True,
        summary="Any folder of video files decoded with PyAV (stride / fps sampling), events from a CSV",
    )
