"""Registry cards for time-series detectors (no heavy imports here).

Classic (numpy / scikit-learn / tslearn / sktime) and neural (torch) detectors keep their
cards next to their code; this module gathers both.
"""

from __future__ import annotations

from omniad.registry import Registrar


def register(registry: Registrar) -> None:
    from omniad_timeseries.detectors.classic_cards import register as register_classic
    from omniad_timeseries.detectors.neural.cards import register as register_neural

    register_classic(registry)
    register_neural(registry)
