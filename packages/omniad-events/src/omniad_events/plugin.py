"""Entry point of the ``omniad`` group: registers the event components.

Cards live next to the code they describe (``*/cards.py``); this module only routes the
hooks to them and must stay free of heavy imports (no torch, no pandas).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from omniad import hookimpl

if TYPE_CHECKING:
    from omniad.registry import Registrar

#: every id this plugin registers starts with ``events.``
OMNIAD_PREFIXES = ("events",)


@hookimpl
def omniad_register_datasets(registry: Registrar) -> None:
    from omniad_events.datasets.cards import register

    register(registry)


@hookimpl
def omniad_register_detectors(registry: Registrar) -> None:
    from omniad_events.detectors.cards import register

    register(registry)


@hookimpl
def omniad_register_metrics(registry: Registrar) -> None:
    from omniad_events.metrics.cards import register

    register(registry)
