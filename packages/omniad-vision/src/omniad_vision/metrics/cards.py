"""Registry cards for vision metrics (no heavy imports here).

Pixel AUROC and pixel F1-max are the core's ``core.local_auroc`` / ``core.local_f1_max``
(pooled over all pixels); only region-aware metrics live here.
"""

from __future__ import annotations

from omniad.registry import Registrar


def register(registry: Registrar) -> None:
    registry.add(
        id="vision.aupro", target="omniad_vision.metrics.components:AUPRO",
        params="omniad_vision.metrics.components:AUPROParams", modality="vision", level="local", localization=("pixel",),
        short_name="AUPRO", summary="Area under the per-region-overlap curve up to FPR 0.3, normalised (MVTec AD)",
        reference="Bergmann et al., IJCV 2021 (MVTec AD)",
    )
