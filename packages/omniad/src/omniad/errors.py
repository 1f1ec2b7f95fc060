"""Exceptions that omniad raises on purpose.

Every error a user can cause (bad config, unknown id, bad data) is an ``OmniadError`` so
the CLI and the runner can print it as one line instead of a traceback, and record it
per job. Messages follow one rule: say what was wrong, where, and how to fix it.
"""

from __future__ import annotations


class OmniadError(Exception):
    """Base class: an error caused by input, configuration or environment, not a bug."""


class ConfigError(OmniadError, ValueError):
    """A run configuration or component parameters are invalid."""


class UnknownComponentError(ConfigError, KeyError):
    """An id does not name a registered detector, dataset or metric."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DuplicateComponentError(OmniadError):
    """Two registrations claimed the same id."""


class PluginLoadError(OmniadError):
    """A plugin failed to import or register (raised only in strict mode)."""


class DataError(OmniadError, ValueError):
    """Input data is malformed: wrong shape, NaN, missing file, no anomalies in test ..."""


class NotFittedError(OmniadError, RuntimeError):
    """``score`` or ``save`` was called before ``fit``."""


class MissingDependencyError(OmniadError, ImportError):
    """A component needs an optional package that is not installed."""


def short_repr(value: object, limit: int = 60) -> str:
    """A bounded repr for error messages, so a huge array never floods the terminal."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
