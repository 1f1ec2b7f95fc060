"""Registry cards for log detectors (no heavy imports here).

Count-vector methods and the graph detector register from ``count_cards``; sequence models
(DeepLog family, transformer) from ``sequence_cards``.
"""

from __future__ import annotations

from omniad.registry import Registrar


def register(registry: Registrar) -> None:
    from omniad_logs.detectors.count_cards import register as register_count
    from omniad_logs.detectors.sequence_cards import register as register_sequence

    register_count(registry)
    register_sequence(registry)
