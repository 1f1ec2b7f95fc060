"""Registry cards for EfficientAD, SimpleNet, WinCLIP and Dinomaly (no torch here)."""

from __future__ import annotations

from omniad.registry import Registrar


def register(registry: Registrar) -> None:
    pass
