"""Registry cards for the one-class frame detectors (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar


def register(registry: Registrar) -> None:
    pass
