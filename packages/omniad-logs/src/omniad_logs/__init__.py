"""omniad-logs: log anomaly detection from raw lines to ranked sessions, traceable to the lines.

Importing this package is cheap (no torch): the parser and the sample types are pure Python
and numpy; detectors import torch only when they are created.
"""

from __future__ import annotations

from omniad_logs.session import EventVocabulary, LogSession, as_sessions
from omniad_logs.version import __version__

__all__ = ["EventVocabulary", "LogSession", "__version__", "as_sessions", "group_messages"]


def __getattr__(name: str):  # lazy: the parser module is only imported when asked for
    if name == "group_messages":
        from omniad_logs.parsing import group_messages

        return group_messages
    raise AttributeError(f"module 'omniad_logs' has no attribute {name!r}")
