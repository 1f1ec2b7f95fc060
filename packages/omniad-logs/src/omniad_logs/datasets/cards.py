"""Registry cards for log datasets (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar

_P = "omniad_logs.datasets"


def register(registry: Registrar) -> None:
    pass
