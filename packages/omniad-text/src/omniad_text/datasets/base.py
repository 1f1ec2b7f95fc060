"""What every text dataset shares when its texts are scored as a user's own data (``omniad score``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omniad.data import Split
from omniad.dataset import Dataset
from omniad.decision import Decisions


class TextDataset(Dataset):
    """Base of the text datasets: no per-element table, a ranked list of the most anomalous texts as the picture."""

    def element_columns(self, split: Split, index: int, n_elements: int) -> dict[str, Sequence[Any]] | None:
        """Texts are scored whole (no detector here gives per-token scores), so there is no element table."""
        return None

    def sample_columns(self, split: Split, index: int) -> dict[str, Any]:
        """The text's first words, so the samples table says which text each row is."""
        from omniad_text.datasets.render import snippet

        return {"text": snippet(split.samples[index], 200)}

    def render_results(self, split: Split, decisions: Decisions, out_dir: Path, max_items: int = 8) -> list[Path]:
        from omniad_text.datasets.render import render_ranked

        return render_ranked(split, decisions, Path(out_dir), max_items=max_items)
