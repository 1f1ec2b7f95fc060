"""Registry cards for log metrics (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar

_P = "omniad_logs.metrics"


def register(registry: Registrar) -> None:
    pass
