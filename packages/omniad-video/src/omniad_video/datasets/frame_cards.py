"""Registry cards for the frame and video-file datasets (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar


def register(registry: Registrar) -> None:
    pass
