"""Fixtures for core tests: throw-away plugin distributions installed on ``sys.path``."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from omniad import plugins


@pytest.fixture
def make_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str], None]]:
    """Create an installed distribution exposing entry point ``name`` -> module with ``source``."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("OMNIAD_STRICT_PLUGINS", raising=False)  # these tests want broken plugins tolerated
    saved = (plugins._manager, plugins._registry)
    plugins.reset()

    def make(name: str, source: str) -> None:
        module = f"fake_omniad_{name}"
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
        dist = tmp_path / f"fake_omniad_{name}-1.2.3.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: fake-omniad-{name}\nVersion: 1.2.3\n")
        (dist / "entry_points.txt").write_text(f"[omniad]\n{name} = {module}\n")
        plugins.reset()

    yield make
    plugins._manager, plugins._registry = saved
