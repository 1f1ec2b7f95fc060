"""Registry cards for the corrective-offset detector (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar


def register(registry: Registrar) -> None:
    registry.add(
        id="pointcloud.offsets", target="omniad_pointcloud.detectors.offsets.detector:CorrectiveOffsets",
        params="omniad_pointcloud.detectors.offsets.params:OffsetParams", modality="pointcloud", gpu="optional",
        summary="Corrective offsets: a point network trained from scratch on normal clouds with synthetic bumps "
        "predicts each point's way back to the normal surface; the score is its length",
        reference="in the spirit of MC4AD (corrective offsets for 3D anomaly detection)",
        demo=True, demo_params={"k": 16, "max_points": 512, "hidden": 32, "min_steps": 150},
    )
