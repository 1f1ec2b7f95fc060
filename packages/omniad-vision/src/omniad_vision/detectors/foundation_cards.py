"""Registry cards for methods built on a strong frozen ViT (few-shot patch kNN, INP-Former,
DictAS, AnomalyNCD); no torch here."""

from __future__ import annotations

from omniad.registry import Registrar


def register(registry: Registrar) -> None:
    """No card yet: filled as each method lands (issue 30)."""
