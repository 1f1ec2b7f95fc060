"""Registry cards for class-agnostic / generalist methods (FOD, ResAD++, NAGL, UniCon-HA);
no torch here."""

from __future__ import annotations

from omniad.registry import Registrar


def register(registry: Registrar) -> None:
    """No card yet: filled as each method lands (issue 30)."""
