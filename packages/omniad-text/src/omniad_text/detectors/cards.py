"""Registry cards for text detectors (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar

_P = "omniad_text.detectors"


def register(registry: Registrar) -> None:
    pass
