"""Registry cards for video datasets (no heavy imports here).

Each group of components keeps its cards beside its code; this module only gathers them.
"""

from __future__ import annotations

from omniad.registry import Registrar
from omniad_video.datasets.feature_cards import register as _feature_cards
from omniad_video.datasets.frame_cards import register as _frame_cards


def register(registry: Registrar) -> None:
    _frame_cards(registry)
    _feature_cards(registry)
