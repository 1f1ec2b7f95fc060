"""Registry cards for log metrics (no heavy imports here).

Pooled per-line AUROC / AUPR are the core's ``core.local_auroc`` / ``core.local_aupr``;
only what they do not measure is registered here.
"""

from __future__ import annotations

from omniad.registry import Registrar

_P = "omniad_logs.metrics"


def register(registry: Registrar) -> None:
    registry.add(
        id="logs.session_line_auroc", target=f"{_P}.session_lines:SessionLineAUROC", modality="logs",
        level="local", localization=("line",), short_name="session line AUROC",
        summary="Mean over anomalous sessions of the AUROC of line scores within the session",
    )
