"""Throw-away plugins for ``omniad`` run in a child process.

A plugin that ends or hangs the process it is loaded in (``os._exit`` in its import, a native
crash) can only be tested from outside: :func:`installed` writes it as an installed distribution
and returns the environment in which a child ``omniad`` (:func:`run_omniad`) finds it, with crash
marks kept under the test's folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def installed(tmp_path: Path, name: str, source: str, **extra: str) -> dict[str, str]:
    """An environment where ``name`` is an installed plugin (for subprocesses) and crash marks go to tmp."""
    root = tmp_path / f"plug-{name}"
    root.mkdir(exist_ok=True)
    (root / f"fake_omniad_{name}.py").write_text(textwrap.dedent(source))
    dist = root / f"fake_omniad_{name}-1.0.dist-info"
    dist.mkdir(exist_ok=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: fake-omniad-{name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[omniad]\n{name} = fake_omniad_{name}\n")
    env = {k: v for k, v in os.environ.items() if k != "OMNIAD_STRICT_PLUGINS"}
    env.update(PYTHONPATH=os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH")) if p),
               OMNIAD_LOAD_PLUGINS=name, OMNIAD_CACHE_DIR=str(tmp_path / "cache"), **extra)
    return env


def run_omniad(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m omniad ARGS`` in a child, output captured (a hanging child fails after 300 s)."""
    return subprocess.run([sys.executable, "-m", "omniad", *args], capture_output=True, text=True, env=env,
                          timeout=300)
