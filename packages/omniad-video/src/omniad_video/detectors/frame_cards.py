"""Registry cards for the one-class frame detectors (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar

_P = "omniad_video.detectors"


def register(registry: Registrar) -> None:
    registry.add(
        id="video.frame_knn", target=f"{_P}.frame_knn.detector:FrameKNN",
        params=f"{_P}.frame_knn.params:FrameKNNParams", modality="video", gpu="optional", sample_kind="frames",
        summary="Frame features (grayscale thumbnail + frame difference, or a vision backbone) scored by the "
        "distance to the k-th nearest normal training frame, temporally smoothed; video = max frame",
        reference="frame-level kNN baseline (cf. Bergman et al., Deep nearest neighbor anomaly detection, 2020)",
        demo=True,
        demo_params={"features": "pixels", "pixel_size": 12, "k": 3},
    )
    registry.add(
        id="video.frame_gaussian", target=f"{_P}.frame_knn.detector:FrameGaussian",
        params=f"{_P}.frame_knn.params:FrameGaussianParams", modality="video", gpu="optional", sample_kind="frames",
        summary="Frame features scored by Mahalanobis distance under a Ledoit-Wolf Gaussian of normal frames, "
        "temporally smoothed; video = max frame",
        reference="Ledoit & Wolf 2004; Gaussian feature baseline as in Rippel et al., ICPR 2020",
    )
    registry.add(
        id="video.future_frame", target=f"{_P}.future_frame.detector:FutureFrame",
        params=f"{_P}.future_frame.params:FutureFrameParams", modality="video", gpu="optional", sample_kind="frames",
        summary="Future-frame prediction: a small U-Net predicts the next grayscale frame from the last t; "
        "score = negative PSNR (intensity + gradient losses; adversarial and flow losses omitted)",
        reference="Liu et al., Future Frame Prediction for Anomaly Detection - A New Baseline, CVPR 2018",
        demo=True,
        demo_params={"frame_size": 32, "base_channels": 8, "depth": 2, "epochs": 2, "n_context": 2, "max_windows": 256},
    )
    registry.add(
        id="video.cell_knn", target=f"{_P}.cell_knn.detector:CellKNN",
        params=f"{_P}.cell_knn.params:CellKNNParams", modality="video", sample_kind="frames",
        summary="Fixed-camera video cut into grid cells: each cell's motion (frame-difference energy, normal-flow "
        "speed at several lags) and appearance cues against the normal cells at and around its place (k-th "
        "nearest); frame = worst cell, temporally smoothed; video = max frame",
        reference="local (cell-level) motion cues for crowd anomalies, cf. Mahadevan et al., CVPR 2010; "
        "normal flow: Horn & Schunck 1981",
        demo=True,
        demo_params={"cell_size": 8, "k": 2},
    )
