"""Registry cards for the pre-extracted feature datasets (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar


def register(registry: Registrar) -> None:
    pass
