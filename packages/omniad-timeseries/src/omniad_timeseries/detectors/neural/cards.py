"""Registry cards for neural time-series detectors (no torch import here)."""

from __future__ import annotations

from omniad.registry import Registrar


def register(registry: Registrar) -> None:
    pass
