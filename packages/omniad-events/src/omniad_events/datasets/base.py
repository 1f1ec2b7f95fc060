"""What every event dataset shares when its events are scored as a user's own data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omniad.data import Split
from omniad.dataset import Dataset


class EventDataset(Dataset):
    """Events are scored whole: no element table; the samples table shows each event's fields."""

    def element_columns(self, split: Split, index: int, n_elements: int) -> dict[str, Sequence[Any]] | None:
        return None

    def sample_columns(self, split: Split, index: int) -> dict[str, Any]:
        event = split.samples[index]
        return {"event": event.describe()} if hasattr(event, "describe") else {}
