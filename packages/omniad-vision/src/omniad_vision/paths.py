"""Where real data and local weights live: ``$OMNIAD_SHARED_DATA`` or ``<repo root>/../shared``."""

from __future__ import annotations

import os
from pathlib import Path

SHARED_ENV = "OMNIAD_SHARED_DATA"
WEIGHTS_ENV = "OMNIAD_WEIGHTS_DIR"


def _repo_root() -> Path | None:
    for start in (Path.cwd(), Path(__file__).resolve()):
        for parent in (start, *start.parents):
            if (parent / "packages" / "omniad").is_dir():
                return parent
    return None


def shared_data_dir() -> Path:
    """The shared data folder (may not exist; callers decide whether that is an error or a skip)."""
    env = os.environ.get(SHARED_ENV)
    if env:
        return Path(env).expanduser()
    root = _repo_root()
    return (root / ".." / "shared").resolve() if root is not None else Path("../shared").resolve()


def weight_dirs() -> list[Path]:
    """Folders searched for ``weights="imagenet"``: ``$OMNIAD_WEIGHTS_DIR`` first, then shared/weights."""
    dirs = []
    env = os.environ.get(WEIGHTS_ENV)
    if env:
        dirs.extend(Path(p).expanduser() for p in env.split(os.pathsep) if p)
    dirs.append(shared_data_dir() / "weights")
    return dirs
