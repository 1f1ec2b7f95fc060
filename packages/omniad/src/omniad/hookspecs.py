"""The plugin hooks of omniad.

A plugin is a module with functions decorated by ``@hookimpl`` and named after the specs
below, exposed through an entry point in the ``omniad`` group::

    [project.entry-points.omniad]
    my_plugin = "my_package.plugin"

The plugin module declares the id prefixes it owns, ``OMNIAD_PREFIXES = ("my_plugin",)``
(default: the entry-point name); omniad refuses ids outside them and a prefix another
plugin owns, and keeps a plugin's components only if all of its hooks succeed.

Each hook receives a ``registry`` for one kind of component and adds cards to it. Cards
name their implementation as a ``"module:attr"`` string, so the plugin module must stay
cheap to import: no torch, timm or transformers at module level.

Specs only ever gain arguments (pluggy passes implementations just the ones they ask
for), so plugins written against an older omniad keep working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluggy import HookimplMarker, HookspecMarker

if TYPE_CHECKING:
    from omniad.registry import Registrar

PROJECT_NAME = "omniad"
hookspec = HookspecMarker(PROJECT_NAME)
hookimpl = HookimplMarker(PROJECT_NAME)


@hookspec
def omniad_register_detectors(registry: Registrar) -> None:
    """Register detectors: ``registry.add(id="x.y", target="pkg.mod:Cls", modality=..., summary=...)``.

    Fields are those of ``omniad.registry.DetectorCard``.
    """


@hookspec
def omniad_register_datasets(registry: Registrar) -> None:
    """Register datasets; fields are those of ``omniad.registry.DatasetCard``."""


@hookspec
def omniad_register_metrics(registry: Registrar) -> None:
    """Register metrics; fields are those of ``omniad.registry.MetricCard``."""
