"""One local Ray instance per test session, and a test-only plugin the workers can import.

Ray starts once (``ray.init(num_cpus=2)``, no dashboard): it costs seconds on the 2-core CI
machines, so every test shares it. The ``raytest`` plugin (a detector that can sleep or
kill its own worker) is a throw-away distribution on ``PYTHONPATH``, set before Ray starts,
so the workers Ray spawns find it through the same entry points as the driver.
"""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from omniad import plugins

ray = pytest.importorskip("ray")

PLUGIN_SOURCE = '''
"""raytest: a detector whose fit can sleep (jobs in flight to kill) or kill its worker."""
import os
import signal
import time

import numpy as np
from pydantic import Field

from omniad import Detector, Params, Scores, hookimpl
from omniad.tabular import as_matrix

OMNIAD_PREFIXES = ("{prefix}",)


class SlowParams(Params):
    sleep_s: float = Field(default=0.0, ge=0)
    crash: bool = False


class Slow(Detector):
    Params = SlowParams
    state_attributes = ("mean_",)

    def _fit(self, samples):
        if self.params.crash:
            os.kill(os.getpid(), signal.SIGKILL)  # a segfault or an OOM kill (os._exit is caught and recorded now)
        time.sleep(self.params.sleep_s)
        self.mean_ = as_matrix(samples, "fit").mean(0)

    def _score(self, samples):
        return Scores(sample=np.linalg.norm(as_matrix(samples, "score") - self.mean_, axis=1))


@hookimpl
def omniad_register_detectors(registry):
    registry.add(id="{prefix}.slow", target=__name__ + ":Slow", params=__name__ + ":SlowParams",
                 modality="tabular", summary="sleeps, then distance to the training mean")
'''


def write_plugin(root: Path, prefix: str) -> None:
    """An installed distribution ``<prefix>`` (version 0.0.1) exposing the ``raytest`` detector."""
    module = f"omniad_{prefix}_plugin"
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(textwrap.dedent(PLUGIN_SOURCE).replace("{prefix}", prefix))
    dist = root / f"{module}-0.0.1.dist-info"
    dist.mkdir(exist_ok=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.0.1\n")
    (dist / "entry_points.txt").write_text(f"[omniad]\n{prefix} = {module}\n")


@pytest.fixture(scope="session")
def plugin_writer() -> Callable[[Path, str], None]:
    """``write_plugin`` for tests (conftest modules are not importable under importlib mode)."""
    return write_plugin


@pytest.fixture(scope="session")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("raytest-plugin")
    write_plugin(root, "raytest")
    return root


@pytest.fixture(scope="session")
def ray_session(plugin_path: Path) -> Iterator[None]:
    """Ray with 2 CPUs for the whole session; workers inherit PYTHONPATH (the test plugin)."""
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(plugin_path), old) if p)
    sys.path.insert(0, str(plugin_path))
    plugins.reset()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        yield
    finally:
        ray.shutdown()
        sys.path.remove(str(plugin_path))
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
        plugins.reset()


@pytest.fixture
def fresh_registry(ray_session: None) -> Iterator[None]:
    """Rebuild the registry for this test (it may add a plugin) and again afterwards."""
    plugins.reset()
    yield
    plugins.reset()
