"""pytest plugin (entry point ``pytest11``): fixtures for testing omniad plugins.

``omniad_plugin_manager`` gives a fresh manager and registry per test and restores the
process-wide ones afterwards, so a test can register a throw-away plugin module with
``omniad_plugin_manager.register(module, name="x")``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def omniad_plugin_manager() -> Iterator[object]:
    from omniad import plugins

    saved = (plugins._manager, plugins._registry)
    manager = plugins.PluginManager()
    plugins.reset(manager)
    try:
        yield manager
    finally:
        plugins._manager, plugins._registry = saved
