"""Masking: replace the variable parts of a message token (numbers, ids, IPs, hex, paths) by ``<*>``.

Masking runs per whitespace token, not over the whole message, for speed: log vocabularies
are small, so each distinct token is masked once and then read from a cache (drain3 runs
every regex over every message, which is why its masked mode is ~5x slower than unmasked).
The price is that a rule cannot span a space; the built-in rules do not need to.

A rule is a plain regular expression; every match inside a token becomes ``<*>``, and runs
of ``<*>`` joined only by punctuation (``10.0.0.1:80`` -> ``<*>.<*>.<*>.<*>:<*>``) collapse
into one, so an IP, a timestamp or a dotted version is one variable however many parts it has.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from omniad.errors import ConfigError

WILDCARD = "<*>"

#: a token longer than this is a variable (a blob, a base64 payload) and is never cached
MAX_TOKEN_CHARS = 512

#: The built-in rules, by name, in the order they are tried (earlier names win on overlaps).
BUILTIN_MASKS: dict[str, str] = {
    # scheme://anything: the whole URL is one variable
    "url": r"[A-Za-z][A-Za-z0-9+.\-]*://\S+",
    # absolute paths with at least two parts (/a/b, /var/log/x.log); a lone "/" stays
    "path": r"(?<![\w.])(?:/[\w.\-]+){2,}/?",
    # 0x-prefixed hex, and long hex strings that contain a digit (hashes, ids)
    "hex": r"\b0[xX][0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b",
    # weekday and month names standing alone (the words of a printed date: "Sun Jul 17 15:08:35 2005")
    "date": r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[,.]?$",
    # numbers, signed or dotted (42, -7, 3.14, 10.0.0.1 with its parts collapsed) that do not
    # continue a word, and runs of two or more digits after letters (node42 -> node<*>, R02 -> R<*>);
    # a single digit after letters is part of a name (ssh2, utf8, ee0)
    "number": r"(?<![A-Za-z0-9])-?\d+(?:[.,]\d+)*|(?<=[A-Za-z])\d{2,}",
}

#: "unit": a unit word right after a masked number joins it, so "(1.21 KB)", "<1 sec" and "30 ms"
#: are one variable whatever the spacing (the only rule that spans a space; see ``unit_tokens``).
UNIT_WORDS: tuple[str, ...] = (
    "B", "KB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "Kb", "Mb", "Gb",
    "ms", "us", "ns", "sec", "secs", "min", "mins",
)
_UNIT_TAILS = ("", ")", ",", ".", ";", ":", "]", "),", ").", "];", "],")


def unit_tokens() -> dict[str, str]:
    """Unit word token (with trailing punctuation) -> the punctuation to keep after the merged ``<*>``."""
    return {w + tail: tail for w in UNIT_WORDS for tail in _UNIT_TAILS}


DEFAULT_MASKS: tuple[str, ...] = ("unit", "url", "path", "hex", "date", "number")

_COLLAPSE = re.compile(r"<\*>(?:[.:,\-/_#@+]*<\*>)+")


def compile_masks(masks: Sequence[str]) -> re.Pattern[str] | None:
    """One alternation of the named built-ins and/or raw regexes in ``masks`` (``None`` when empty)."""
    parts: list[str] = []
    for i, mask in enumerate(masks):
        if not isinstance(mask, str) or not mask:
            raise ConfigError(
                f"TemplateMiner masks[{i}]: {mask!r} is not a mask; give a built-in name "
                f"(unit, {', '.join(BUILTIN_MASKS)}) or a non-empty regular expression"
            )
        if mask == "unit":
            continue
        pattern = BUILTIN_MASKS.get(mask, mask)
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"TemplateMiner masks[{i}]: {mask!r} is not a valid regular expression ({exc})") from None
        parts.append(f"(?:{pattern})")
    return re.compile("|".join(parts)) if parts else None


class TokenMasker:
    """Masks tokens with a per-token cache; bounded so an unbounded stream of unique ids cannot grow it forever."""

    __slots__ = ("_limit", "_regex", "cache")

    def __init__(self, regex: re.Pattern[str] | None, cache_limit: int = 100_000) -> None:
        self._regex = regex
        self.cache: dict[str, str] = {}
        self._limit = cache_limit

    def mask(self, token: str) -> str:
        cached = self.cache.get(token)
        if cached is not None:
            return cached
        if len(token) > MAX_TOKEN_CHARS:  # a blob (base64, a dump): a variable, and too big to cache
            return WILDCARD
        out = token
        if self._regex is not None:
            out = self._regex.sub(WILDCARD, token)
            if WILDCARD in out:
                out = _COLLAPSE.sub(WILDCARD, out)
        if len(self.cache) >= self._limit:
            self.cache.clear()
        self.cache[token] = out
        return out
