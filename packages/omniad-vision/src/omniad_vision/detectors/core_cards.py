"""Registry cards for PatchCore, PaDiM, Gaussian MVG and the random baseline (no torch here)."""

from __future__ import annotations

from omniad.registry import Registrar


def register(registry: Registrar) -> None:
    pass
