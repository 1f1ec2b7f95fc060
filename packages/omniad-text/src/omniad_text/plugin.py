"""Entry point of the ``omniad`` group: registers the text components.

Cards live next to the code they describe (``*/cards.py``); this module only routes the
hooks to them and must stay free of heavy imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from omniad import hookimpl

if TYPE_CHECKING:
    from omniad.registry import Registrar

#: every id this plugin registers starts with ``text.``
OMNIAD_PREFIXES = ("text",)


@hookimpl
def omniad_register_datasets(registry: Registrar) -> None:
    from omniad_text.datasets.cards import register

    register(registry)


@hookimpl
def omniad_register_detectors(registry: Registrar) -> None:
    from omniad_text.detectors.cards import register

    register(registry)
