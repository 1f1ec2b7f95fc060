"""Where a source checkout's real test and benchmark data lives: ``$OMNIAD_SHARED_DATA`` or ``../shared``.

Every modality package resolves the default roots of its benchmark loaders (NAB, loghub,
HDFS sessions, BBC News) the same way, so the rule lives here once.
"""

from __future__ import annotations

import os
from pathlib import Path

SHARED_ENV = "OMNIAD_SHARED_DATA"


def shared_data_root() -> Path:
    """``$OMNIAD_SHARED_DATA``, else ``<repo root>/../shared`` of a source checkout, else ``./../shared``."""
    env = os.environ.get(SHARED_ENV)
    if env:
        return Path(env).expanduser()
    here = Path(__file__).resolve()  # <root>/packages/omniad/src/omniad/shared.py in a checkout
    if len(here.parents) > 4 and (here.parents[4] / "packages").is_dir():
        return here.parents[4].parent / "shared"
    return Path.cwd().parent / "shared"
