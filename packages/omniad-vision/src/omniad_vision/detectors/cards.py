"""Registry cards for vision detectors (no heavy imports here).

Two card modules so the two groups of models can evolve independently:
``core_cards`` (PatchCore, PaDiM, Gaussian MVG, random baseline) and ``extra_cards``
(EfficientAD, SimpleNet, WinCLIP, Dinomaly).
"""

from __future__ import annotations

from omniad.registry import Registrar


def register(registry: Registrar) -> None:
    from omniad_vision.detectors.core_cards import register as register_core
    from omniad_vision.detectors.extra_cards import register as register_extra

    register_core(registry)
    register_extra(registry)
