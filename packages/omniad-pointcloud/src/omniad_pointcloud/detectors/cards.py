"""Registry cards for point cloud detectors (no heavy imports here).

Each group of components keeps its cards beside its code; this module only gathers them.
"""

from __future__ import annotations

from omniad.registry import Registrar
from omniad_pointcloud.detectors.btf_cards import register as _btf_cards
from omniad_pointcloud.detectors.offset_cards import register as _offset_cards


def register(registry: Registrar) -> None:
    _btf_cards(registry)
    _offset_cards(registry)
