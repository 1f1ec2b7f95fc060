"""Masking: replace the variable parts of a message token (numbers, ids, IPs, hex, paths) by ``<*>``.

Masking runs per whitespace token, not over the whole message, for speed: log vocabularies
are small, so each distinct token is masked once and then read from a cache (drain3 runs
every regex over every message, which is why its masked mode is ~5x slower than unmasked).
The price is that a rule cannot span a space; the built-in rules do not need to.

A rule is a plain regular expression; every match inside a token becomes ``<*>``, and runs
of ``<*>`` joined only by punctuation (``10.0.0.1:80`` -> ``<*>.<*>.<*>.<*>:<*>``) collapse
into one, so an IP, a timestamp or a dotted version is one variable however many parts it has.

Cost. A mask given as a regular expression is untrusted input: it may come from a saved
parser state or a config file, and a backtracking engine (Python's ``re``) takes exponential
time on patterns such as ``(a+)+$`` (a ReDoS). User masks are therefore compiled with RE2
(``google-re2``), which runs in time linear in the token whatever the pattern, and a pattern
RE2 cannot take (backreferences, lookaround) is refused with the mask named. The built-in
rules keep Python's ``re`` (they use lookaround) and are vetted: no nested or overlapping
quantifiers, and they only ever run on tokens of at most ``MAX_TOKEN_CHARS`` characters.
No wall-clock timeout is involved, so results never depend on the machine's speed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

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


class Masks(Protocol):
    """What the masker needs of its rules: ``re.Pattern.sub`` for the wildcard."""

    def sub(self, repl: str, string: str) -> str: ...


def untrusted_regex(pattern: str, label: str, hint: str = "") -> Any:
    """A user's regex compiled with RE2 (linear time), or a ConfigError saying why it cannot be.

    For every regex that comes from a file or a config (masks, session patterns): RE2 runs in
    time linear in the text whatever the pattern. One that matches the empty string is refused.
    """
    import re2

    options = re2.Options()
    options.log_errors = False  # the refusal is our one-line error, not a C++ log line on stderr
    try:
        rx = re2.compile(pattern, options)
    except re2.error as exc:
        why = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ConfigError(
            f"{label}: RE2 cannot run this regular expression ({why}); regexes from files and configs run "
            "on RE2 so that no pattern can take exponential time: write it without backreferences or "
            f"lookaround (\\b, ^, $ and [0-9] are fine){hint}"
        ) from None
    if rx.fullmatch("") is not None:
        raise ConfigError(f"{label}: it matches the empty string; make it match at least one character")
    return rx


class MaskUnion:
    """Several compiled rules applied exactly as one alternation ``(?:a)|(?:b)|...`` would be.

    Needed as soon as one rule is a user's (RE2) and another a built-in (Python ``re``, with
    lookaround RE2 lacks): each rule finds its leftmost match from the current position, the
    leftmost of those wins (ties: the rule listed first), it becomes ``repl`` and the scan goes
    on after it. Empty matches mask nothing (user rules that match only the empty string are
    refused). Every search is linear in the token (RE2) or a vetted built-in.
    """

    __slots__ = ("rules",)

    def __init__(self, rules: Sequence[Any]) -> None:
        self.rules = list(rules)

    @staticmethod
    def _next(rule: Any, string: str, pos: int) -> Any:
        m = rule.search(string, pos)
        while m is not None and m.end() == m.start():
            m = rule.search(string, m.start() + 1) if m.start() < len(string) else None
        return m

    def sub(self, repl: str, string: str) -> str:
        found: list[Any] = [self._next(rule, string, 0) for rule in self.rules]
        out: list[str] = []
        pos = 0
        while True:
            best = None
            for i, m in enumerate(found):
                if m is not None and m.start() < pos:  # overlapped by the previous match: look again
                    m = found[i] = self._next(self.rules[i], string, pos)
                if m is not None and (best is None or m.start() < best.start()):
                    best = m
            if best is None:
                break
            out.append(string[pos : best.start()])
            out.append(repl)
            pos = best.end()
        if not out:
            return string
        out.append(string[pos:])
        return "".join(out)


def compile_masks(masks: Sequence[str], where: str = "TemplateMiner") -> Masks | None:
    """The rules of ``masks`` (built-in names and/or regexes) as one masker (``None`` when empty).

    Only built-ins: one Python alternation (the default path, unchanged). Any user regex: each
    user regex on RE2 and the built-ins on ``re``, combined by ``MaskUnion``.
    """
    builtin: list[str] = []
    rules: list[Any] = []
    for i, mask in enumerate(masks):
        label = f"{where} masks[{i}] {mask!r:.80}"
        if not isinstance(mask, str) or not mask:
            raise ConfigError(
                f"{where} masks[{i}]: {mask!r} is not a mask; give a built-in name "
                f"(unit, {', '.join(BUILTIN_MASKS)}) or a non-empty regular expression"
            )
        if mask == "unit":
            continue
        if mask in BUILTIN_MASKS:
            pattern = f"(?:{BUILTIN_MASKS[mask]})"
            builtin.append(pattern)
            rules.append(re.compile(pattern))
            continue
        try:
            re.compile(mask)
        except (re.error, RecursionError, OverflowError) as exc:
            raise ConfigError(f"{label}: not a valid regular expression ({exc})") from None
        rules.append(untrusted_regex(mask, label, ", or use a built-in mask name"))
    if not rules:
        return None
    if len(builtin) == len(rules):
        return re.compile("|".join(builtin))
    return MaskUnion(rules)


class TokenMasker:
    """Masks tokens with a per-token cache; bounded so an unbounded stream of unique ids cannot grow it forever."""

    __slots__ = ("_limit", "_regex", "cache")

    def __init__(self, regex: Masks | None, cache_limit: int = 100_000) -> None:
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
