"""Registry cards for the frame and video-file datasets (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar
from omniad_video.suffixes import VIDEO_SUFFIXES

_P = "omniad_video.datasets"
METRICS = ("core.local_auroc", "video.frame_auroc_macro", "core.local_aupr")
_PROBE = f"{_P}.probes"
#: a bare path (`omniad fit / score`): every video scored, the ones without labelled anomalous frames fitted on
ALL = {"path_param": "root", "source_params": {"split": "all"}}


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
        **ALL, reads=("/",), probe=f"{_PROBE}:ucsd",
        reference="Mahadevan et al., CVPR 2010 (UCSD Anomaly Detection Dataset)",
        summary="UCSD Ped1 / Ped2 frame folders with the frame ranges of the .m ground-truth file",
    )
    registry.add(
        id="video.shanghaitech", target=f"{_P}.frames:FrameMasks", params=f"{_P}.params:FramesParams", **common,
        needs_data=True, **ALL, reads=("/",), probe=f"{_PROBE}:shanghaitech", reference="Liu et al., CVPR 2018 (ShanghaiTech Campus)",
        summary="ShanghaiTech Campus frame folders with per-video test_frame_mask/*.npy labels",
    )
    registry.add(
        id="video.avenue", target=f"{_P}.frames:Avenue", params=f"{_P}.params:FramesParams", **common,
        needs_data=True, **ALL, reads=("/",), probe=f"{_PROBE}:avenue", reference="Lu, Shi & Jia, ICCV 2013 (CUHK Avenue)",
        summary="CUHK Avenue in the frame-folder release (frames + per-video .npy frame labels)",
    )
    registry.add(
        id="video.files", target=f"{_P}.files:VideoFiles", params=f"{_P}.params:FilesParams", **common,
        needs_data=True, **ALL, reads=("/", *VIDEO_SUFFIXES), probe=f"{_PROBE}:files",
        summary="Video files decoded with PyAV (stride / fps sampling): train/ and test/ folders with events from a "
        "CSV, or (split='all') one video file or any folder of them, labels optional",
    )
    registry.add(
        id="video.frames", target=f"{_P}.frames:FrameFolders", params=f"{_P}.params:FrameFoldersParams", **common,
        needs_data=True, path_param="root", reads=("/",), probe=f"{_PROBE}:frames",
        summary="A folder of frame images (one video) or a folder of frame folders, every video in one subset; "
        "events from a CSV when given (or labels.csv in the folder), unlabelled otherwise",
    )
