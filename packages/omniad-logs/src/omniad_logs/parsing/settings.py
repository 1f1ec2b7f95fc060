"""The miner's settings: one validated model, so a saved state records exactly how it was mined."""

from __future__ import annotations

from pydantic import Field, field_validator

from omniad.params import Params
from omniad_logs.parsing.masking import DEFAULT_MASKS


class MinerParams(Params):
    """Drain-style miner settings. The defaults are the one setting tuned on loghub's ten shared systems."""

    depth: int = Field(default=4, ge=3, le=16, description="parse-tree depth as in Drain: depth - 2 levels of leading tokens")
    similarity: float = Field(default=0.73, gt=0.0, le=1.0, description="least share of matching tokens to join a group")
    max_children: int = Field(default=100, ge=2, description="children per tree node before new tokens route to <*>")
    masks: tuple[str, ...] = Field(
        default=DEFAULT_MASKS,
        description="built-in mask names (unit, url, email, uuid, mac, path, hex, date, duration, number) and/or "
                    "regular expressions; () disables masking",
    )
    max_clusters: int | None = Field(
        default=None, ge=1,
        description="most events kept: a new one beyond it evicts the least recently used (as drain3's max_clusters); "
                    "None keeps every event",
    )
    split_values: int = Field(
        default=2, ge=0, le=64,
        description="parse_batch only: a group's variable column that takes at most this many distinct words over "
                    "the batch, each on two or more lines, is constants and splits the group (0 splits nothing)",
    )
    max_tokens: int = Field(
        default=256, ge=4, le=100_000,
        description="tokens read per message; the rest of a longer message is one variable (bounds time and memory)",
    )

    @field_validator("split_values")
    @classmethod
    def _split_values(cls, value: int) -> int:
        if value == 1:
            raise ValueError("1 would split nothing (a variable column has at least two values); use 0 to turn splitting off")
        return value
