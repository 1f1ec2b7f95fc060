"""The options of a live log watch (``omniad watch --set NAME=VALUE``): caps that keep memory flat."""

from __future__ import annotations

from pydantic import Field

from omniad.params import Params


class LogWatchParams(Params):
    """Every buffer a watch keeps has a cap; what a cap closes or evicts is scored or counted, never dropped silently."""

    max_sessions: int = Field(default=10_000, ge=1, description="open sessions; past it the least recently active is closed and scored")
    max_open_lines: int = Field(default=200_000, ge=10, description="lines held by all open sessions together; past it the least recently active sessions are closed and scored")
    max_session_lines: int = Field(default=1_000, ge=2, description="a session this long is closed and scored; its next line starts a new one")
    idle_lines: int = Field(default=20_000, ge=1, description="a session no line joined for this many lines of the stream is closed and scored")
    idle_seconds: float = Field(default=300.0, gt=0, description="a session no line joined for this many seconds (wall clock) is closed and scored")
    max_templates: int = Field(default=10_000, ge=10, description="templates kept by the parser; past it the least recently seen one learned live is evicted (counted)")
    max_line_chars: int = Field(default=2_000, ge=80, description="characters of a line kept for the parser and the alerts")
    new_template_alerts: bool = Field(default=True, description="alert on the first line of each template the model never saw")
