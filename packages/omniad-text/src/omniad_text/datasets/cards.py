"""Registry cards for text datasets (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar

_P = "omniad_text.datasets"


def register(registry: Registrar) -> None:
    pass
