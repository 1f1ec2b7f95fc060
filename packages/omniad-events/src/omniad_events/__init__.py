"""omniad-events: anomaly detection on heterogeneous categorical events and network flows.

Importing this package is cheap (no torch, no pandas): the learned detectors import torch when
fitted. A sample is an :class:`~omniad_events.events.Event` (typed entities, numbers, optional
time and sequence key); a batch is an :class:`~omniad_events.events.EventTable`, and detectors
also take a list of dicts or a pandas DataFrame.
"""

from __future__ import annotations

from omniad_events.events import Event, EventSchema, EventTable, as_table
from omniad_events.version import __version__

__all__ = ["Event", "EventSchema", "EventTable", "__version__", "as_table"]
