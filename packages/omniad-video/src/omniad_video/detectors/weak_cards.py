"""Registry cards for the weakly supervised feature detectors (MIL, RTFM) (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar


def register(registry: Registrar) -> None:
    pass
