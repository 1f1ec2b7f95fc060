"""Log parsing: a pickle-free Drain-style template miner, loghub header formats, parser accuracy.

The parser modules need only the standard library (and pydantic, through omniad, for the
settings; RE2 for masks given as regexes), so parsing a log costs only what the miner does and
never imports torch.
"""

from __future__ import annotations

from collections.abc import Sequence

from omniad.errors import DataError
from omniad_logs.parsing.accuracy import grouping_accuracy, normalize_template, parsing_accuracy
from omniad_logs.parsing.formats import LOG_FORMATS, LogFormat
from omniad_logs.parsing.masking import BUILTIN_MASKS, DEFAULT_MASKS, WILDCARD
from omniad_logs.parsing.miner import ParseResult, TemplateMiner
from omniad_logs.parsing.settings import MinerParams
from omniad_logs.parsing.state import SCHEMA_VERSION

__all__ = [
    "BUILTIN_MASKS",
    "DEFAULT_MASKS",
    "LOG_FORMATS",
    "SCHEMA_VERSION",
    "WILDCARD",
    "LogFormat",
    "MinerParams",
    "ParseResult",
    "TemplateMiner",
    "group_messages",
    "grouping_accuracy",
    "normalize_template",
    "parsing_accuracy",
]


def group_messages(messages: Sequence[str]) -> list[int]:
    """One group id per message (0, 1, 2 ... in order of first appearance), default miner settings.

    The one-call entry point: messages with the same id share an event template.
    """
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise DataError(
            f"group_messages: give a sequence of message strings (one per line), got {type(messages).__name__}"
        )
    results = TemplateMiner().parse_batch(messages)
    ids: dict[str, int] = {}
    return [ids.setdefault(r.event_id, len(ids)) for r in results]
