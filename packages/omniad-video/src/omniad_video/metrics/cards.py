"""Registry cards for video metrics (no heavy imports here).

Frame AUROC micro and AP are the core's ``core.local_auroc`` / ``core.local_aupr`` (pooled
over all frames); video-level AUROC is ``core.auroc``.
"""

from __future__ import annotations

from omniad.registry import Registrar


def register(registry: Registrar) -> None:
    frame = {"modality": "video", "level": "local", "localization": ("frame",)}
    registry.add(
        id="video.frame_auroc_macro", target="omniad_video.metrics.components:FrameAUROCMacro", **frame,
        short_name="frame AUROC macro",
        summary="Mean over videos of the per-video frame AUROC (videos with one class only left out, counted)",
        reference="per-video averaging as in Georgescu et al., TPAMI 2021",
    )
    registry.add(
        id="video.detection_delay", target="omniad_video.metrics.components:DetectionDelay",
        params="omniad_video.metrics.components:DelayParams", **frame, higher_is_better=False,
        short_name="delay (frames)", tags=("threshold-dependent", "opt-in"),
        summary="Mean frames from an anomalous event's start to the first alarm at a normal-frame quantile "
        "threshold, and the fraction of events detected",
    )
