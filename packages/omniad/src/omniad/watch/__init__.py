"""Live scoring: ``omniad watch MODEL SOURCE`` and ``omniad.watch.watch`` (see ``docs/watch.md``)."""

from omniad.watch.follow import FileFollower, FolderFollower, Line, StdinFollower, open_follower
from omniad.watch.loop import WatchSummary, watch
from omniad.watch.stream import Alert, Streamer

__all__ = ["Alert", "FileFollower", "FolderFollower", "Line", "StdinFollower", "Streamer", "WatchSummary",
           "open_follower", "watch"]
