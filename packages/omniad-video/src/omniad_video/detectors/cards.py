"""Registry cards for video detectors (no heavy imports here).

Each group of components keeps its cards beside its code; this module only gathers them.
"""

from __future__ import annotations

from omniad.registry import Registrar
from omniad_video.detectors.frame_cards import register as _frame_cards
from omniad_video.detectors.weak_cards import register as _weak_cards


def register(registry: Registrar) -> None:
    _weak_cards(registry)
    _frame_cards(registry)
