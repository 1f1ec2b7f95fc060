"""Registry cards for vision detectors (no heavy imports here).

One card module per group of models, so the groups can evolve independently:
``core_cards`` (PatchCore, PaDiM, Gaussian MVG, random baseline), ``extra_cards``
(EfficientAD, SimpleNet, WinCLIP, Dinomaly), ``foundation_cards`` (methods on a strong frozen
ViT: few-shot patch kNN, INP-Former, DictAS, AnomalyNCD) and ``generalist_cards``
(class-agnostic methods: FOD, ResAD++, NAGL, UniCon-HA).
"""

from __future__ import annotations

from omniad.registry import Registrar


def register(registry: Registrar) -> None:
    from omniad_vision.detectors.core_cards import register as register_core
    from omniad_vision.detectors.extra_cards import register as register_extra
    from omniad_vision.detectors.foundation_cards import register as register_foundation
    from omniad_vision.detectors.generalist_cards import register as register_generalist

    register_core(registry)
    register_extra(registry)
    register_foundation(registry)
    register_generalist(registry)
