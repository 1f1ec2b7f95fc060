"""Entry point of the ``omniad`` group: registers the time-series components.

Cards live next to the code they describe (``*/cards.py``); this module only routes the
hooks to them and must stay free of heavy imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from omniad import hookimpl

if TYPE_CHECKING:
    from omniad.registry import Registrar

#: id prefixes this plugin owns (ids read ``timeseries.<name>``); omniad refuses any other.
OMNIAD_PREFIXES = ("timeseries",)


@hookimpl
def omniad_register_datasets(registry: Registrar) -> None:
    from omniad_timeseries.datasets.cards import register

    register(registry)


@hookimpl
def omniad_register_detectors(registry: Registrar) -> None:
    from omniad_timeseries.detectors.cards import register

    register(registry)


@hookimpl
def omniad_register_metrics(registry: Registrar) -> None:
    from omniad_timeseries.metrics.cards import register

    register(registry)
