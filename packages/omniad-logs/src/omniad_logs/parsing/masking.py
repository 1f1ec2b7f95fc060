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
rules keep Python's ``re`` (they use lookaround) and are vetted: no quantifier can split a run
of characters in two ways (a repeated group always starts with a character its body cannot
end in), and they only ever run on tokens of at most ``MAX_TOKEN_CHARS`` characters.
No wall-clock timeout is involved, so results never depend on the machine's speed.

Identifiers are one variable each: URLs, e-mail addresses, UUIDs, MAC addresses, paths, hex ids
and durations (``12ms``, ``3.5s``) have rules of their own before ``number``, which would
otherwise mask their digit runs one by one and keep the letters between them (a UUID became
``<*>-fe1a-<*>b-b8cc-<*>``, a template no other UUID fits).

Keys. In ``key=value`` and ``key:value`` tokens the key names what the value is, so it is a
constant: the masks run on the value only (``r24=0x0`` was ``r<*>=<*>``; ``onExtend:<*>`` and
``setTotalSteps=<*>`` keep the only words that tell their events apart). Before ``:`` a name that
the masks would change (``node-12:8080``) is a host, not a key. ``key_head`` gives the key part
of a token; the miner never merges two tokens whose keys differ.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from omniad.errors import ConfigError

WILDCARD = "<*>"

#: a token longer than this is a variable (a blob, a base64 payload) and is never cached
MAX_TOKEN_CHARS = 512

#: weekday and month names, which the ``date`` rule masks when they stand alone
DATE_WORDS: tuple[str, ...] = (
    "Mon",
    "Tue",
    "Wed",
    "Thu",
    "Fri",
    "Sat",
    "Sun",
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
#: time units a ``duration`` ends in (longest spelling first where one is a prefix of another)
DURATION_UNITS: tuple[str, ...] = (
    "ns",
    "us",
    "\u00b5s",
    "ms",
    "secs",
    "sec",
    "s",
    "mins",
    "min",
    "m",
    "hrs",
    "hr",
    "h",
)

#: The built-in rules, by name; a miner tries them in the order of its ``masks`` (earlier names win
#: on overlaps). The identifier rules (url ... duration) come before ``number`` so that an
#: identifier becomes one ``<*>`` instead of a row of numbers with its letters left between them
#: (a UUID was ``<*>-fe1a-<*>b-b8cc-<*>``, which no two UUIDs share).
BUILTIN_MASKS: dict[str, str] = {
    # scheme://anything: the whole URL is one variable
    "url": r"[A-Za-z][A-Za-z0-9+.\-]*://\S+",
    # user@host.domain (the start must not continue a name, so a long run of letters is scanned once)
    "email": r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+",
    # 8-4-4-4-12 hex digits
    "uuid": r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![0-9A-Fa-f])",
    # MAC addresses, six hex pairs joined by : or -
    "mac": r"(?<![0-9A-Fa-f:\-])[0-9A-Fa-f]{2}(?:[:\-][0-9A-Fa-f]{2}){5}(?![0-9A-Fa-f:\-])",
    # absolute paths with at least two parts (/a/b, /var/log/x.log; a lone "/" stays), paths relative
    # to ., .. or ~ (./run.sh), and Windows drive paths (C:\Windows\x.dll)
    "path": r"(?<![\w.])(?:(?:\.{1,2}|~)(?:/[\w.\-]+)+|(?:/[\w.\-]+){2,})/?|(?<![A-Za-z0-9])[A-Za-z]:\\[\w.$\\\-]*",
    # 0x-prefixed hex, and long hex strings that contain a digit (hashes, ids)
    "hex": r"\b0[xX][0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b",
    # weekday and month names standing alone (the words of a printed date: "Sun Jul 17 15:08:35 2005")
    "date": "^(?:" + "|".join(DATE_WORDS) + ")[,.]?$",
    # a number with a time unit, one or more in a row (12ms, 3.5s, 1h30m): one variable, whatever the unit
    "duration": r"(?<![A-Za-z0-9.])(?:\d+(?:\.\d+)?(?:" + "|".join(DURATION_UNITS) + r"))+(?![A-Za-z0-9])",
    # numbers, signed or dotted (42, -7, 3.14, 10.0.0.1 with its parts collapsed) that do not
    # continue a word, and runs of two or more digits after letters (node42 -> node<*>, R02 -> R<*>);
    # a single digit after letters is part of a name (ssh2, utf8, ee0)
    "number": r"(?<![A-Za-z0-9])-?\d+(?:[.,]\d+)*|(?<=[A-Za-z])\d{2,}",
}

#: "unit": a unit word right after a masked number joins it, so "(1.21 KB)", "<1 sec" and "30 ms"
#: are one variable whatever the spacing (the only rule that spans a space; see ``unit_tokens``).
UNIT_WORDS: tuple[str, ...] = (
    "B",
    "KB",
    "MB",
    "GB",
    "TB",
    "PB",
    "KiB",
    "MiB",
    "GiB",
    "TiB",
    "Kb",
    "Mb",
    "Gb",
    "ms",
    "us",
    "ns",
    "sec",
    "secs",
    "min",
    "mins",
)
_UNIT_TAILS = ("", ")", ",", ".", ";", ":", "]", "),", ").", "];", "],")


def unit_tokens() -> dict[str, str]:
    """Unit word token (with trailing punctuation) -> the punctuation to keep after the merged ``<*>``."""
    return {w + tail: tail for w in UNIT_WORDS for tail in _UNIT_TAILS}


DEFAULT_MASKS: tuple[str, ...] = (
    "unit",
    "url",
    "email",
    "uuid",
    "mac",
    "path",
    "hex",
    "date",
    "duration",
    "number",
)

_COLLAPSE = re.compile(r"<\*>(?:[.:,\-/_#@+]*<\*>)+")

#: ``key=`` or ``key:`` at the start of a token (after opening brackets or quotes), followed by a
#: value: a key is a name (a letter or _, then letters, digits, _ - and, before ``=``, dots, so a
#: ``host.name:port`` is no key), and a value does not start with ``/`` ``\`` ``:`` ``=`` (URLs,
#: ``C:\``, ``a::b`` are no key-value pairs). Vetted like the built-ins: neither class can hold the
#: separator after it, so each branch is tried once, in time linear in the token.
_KEY_VALUE = re.compile(
    r"[(\[{<\"']*(?:([A-Za-z_][A-Za-z0-9_.\-]*)=|([A-Za-z_][A-Za-z0-9_\-]*):)(?![=:/\\])(?=.)"
)


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
        why = (
            exc.args[0].decode("utf-8", "replace")
            if exc.args and isinstance(exc.args[0], bytes)
            else str(exc)
        )
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

    Only built-ins: one Python alternation behind ``BuiltinMasks``' shortcuts (the default path).
    Any user regex: each user regex on RE2 and the built-ins on ``re``, combined by ``MaskUnion``.
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
        return BuiltinMasks(masks, re.compile("|".join(builtin)))
    return MaskUnion(rules)


def key_head(token: str) -> str | None:
    """The key part of a ``key=value`` / ``key:value`` token, brackets and separator included (``(uid=``), else None.

    On a masked token the value may be ``<*>``; a name before ``:`` that the masks changed
    (``node-12`` -> ``node-<*>``) is no key, so a masked token has a head exactly when its key was kept.
    """
    if "=" not in token and ":" not in token:
        return None
    m = _KEY_VALUE.match(token)
    return m.group(0) if m is not None else None


#: what a token must hold for a built-in rule to match anywhere in it (a necessary condition, checked
#: with string methods): "digit" a decimal digit, "scheme" ``://``, "at" ``@``, "slash" ``/`` or ``\``,
#: "dashes" four ``-``, "separators" five ``:`` or ``-``, "short" at most four characters
_NEEDS: dict[str, str] = {
    "url": "scheme",
    "email": "at",
    "uuid": "dashes",
    "mac": "separators",
    "path": "slash",
    "hex": "digit",
    "date": "short",
    "duration": "digit",
    "number": "digit",
}
_FEATURES = ("digit", "scheme", "at", "slash", "dashes", "separators", "short")
_DIGIT = re.compile(r"\d").search
_SPAN = re.Match.span


Spans = tuple[tuple[int, int], ...]


def cut(token: str, spans: Spans, repl: str = WILDCARD) -> str:
    """``token`` with each of the (sorted, disjoint) ``spans`` replaced by ``repl``."""
    if not spans:
        return token
    if len(spans) == 1:
        start, end = spans[0]
        return token[:start] + repl + token[end:]
    out = []
    pos = 0
    for start, end in spans:
        out.append(token[pos:start])
        out.append(repl)
        pos = end
    out.append(token[pos:])
    return "".join(out)


#: rule names (in order) -> feature key -> the compiled alternation of the rules a token with those features can match
_SUBSETS: dict[tuple[str, ...], dict[tuple[bool, ...], re.Pattern[str] | None]] = {}


class BuiltinMasks:
    """The built-in rules as one Python alternation, run only with the rules that can match a token.

    Exactly the alternation's ``sub`` (tested), much faster on the tokens of a log:

    * Of the built-ins only ``date`` can match a token of letters alone, and a token of decimal
      digits alone is one ``number`` (``str.isdecimal`` is exactly ``re``'s ``\\d``; no rule
      before it matches one): neither runs a regex.
    * A rule that matches nowhere in a token never wins at any position of the alternation, so
      a token is matched only with the rules whose necessary characters (``_NEEDS``) it holds
      (one compiled alternation per combination, at most 128).

    ``spans`` gives where the matches are, for ``TokenMasker``'s cache of token shapes.
    """

    __slots__ = ("dates", "numbers", "regex", "rules", "subsets")

    def __init__(self, names: Sequence[str], regex: re.Pattern[str]) -> None:
        self.regex = regex
        self.rules = [(name, f"(?:{BUILTIN_MASKS[name]})") for name in names if name in BUILTIN_MASKS]
        self.dates = frozenset(DATE_WORDS) if "date" in names else frozenset()
        self.numbers = "number" in names
        # compiled once per process for each choice of rules (like ``re``'s own cache): a miner per
        # log file no longer recompiles, nor looks up in ``re``'s cache by pattern text, each subset
        self.subsets = _SUBSETS.setdefault(tuple(name for name, _ in self.rules), {})

    def sub(self, repl: str, string: str) -> str:
        return cut(string, self.spans(string), repl)

    def spans(self, string: str) -> Spans:
        """The (start, end) of each match of the alternation in ``string``, left to right."""
        if string.isalpha():
            return ((0, len(string)),) if string in self.dates else ()
        if string.isdecimal():
            return ((0, len(string)),) if self.numbers else ()
        dashes = string.count("-")
        key = (
            _DIGIT(string) is not None,
            "://" in string,
            "@" in string,
            "/" in string or "\\" in string,
            dashes >= 4,
            dashes + string.count(":") >= 5,
            len(string) <= 4,
        )
        try:
            rx = self.subsets[key]
        except KeyError:
            have = dict(zip(_FEATURES, key, strict=True))
            chosen = [pattern for name, pattern in self.rules if have[_NEEDS[name]]]
            rx = self.subsets[key] = re.compile("|".join(chosen)) if chosen else None
        return tuple(map(_SPAN, rx.finditer(string))) if rx is not None else ()


#: ASCII digits written as one digit: every built-in treats all digits alike, except the ``0`` of ``0x``
_ONE_DIGIT = bytes.maketrans(b"0123456789", b"1111111111")
_ONE_DIGIT_BUT_ZERO = bytes.maketrans(b"123456789", b"111111111")
_JOINERS = frozenset(".:,-/_#@+")


class TokenMasker(dict[str, str]):
    """Masks tokens with a per-token cache; bounded so an unbounded stream of unique ids cannot grow it forever.

    The masker is its own cache (token -> masked token) and a miss masks the token
    (``__missing__``), so ``lookup`` (``dict.__getitem__``) in a C-level ``map`` is the hot loop;
    it is cleared when full. The key of a ``key=value`` token is kept and only the value masked
    (see the module docstring).

    Most distinct tokens of a log are ids that never come back (``blk_-6952295868487656571``), so
    besides the tokens, the masker remembers token *shapes*: with the built-in rules, an ASCII
    token with its digits written as ``1`` (``blk_-1111111111111111111``) is masked at exactly the
    same places, because every built-in rule, the key rule and the collapsing of ``<*>`` runs treat
    all digits alike (only ``0x`` names one, so a token with an ``x`` keeps its zeros). A shape's
    spans are found once and cut into every token of that shape: a log has a few thousand shapes
    for hundreds of thousands of ids. Where no digit is left outside the spans (``blk_<*>``,
    ``/<*>``), every token of the shape masks to the same text, which is kept instead of the
    spans. Tested equal to masking every token afresh.
    """

    __slots__ = ("_dates", "_limit", "_numbers", "_regex", "_shapes", "_spans_of")

    def __init__(self, regex: Masks | None, cache_limit: int = 100_000) -> None:
        super().__init__()
        self._regex = regex
        self._limit = cache_limit
        # token shape -> its masked text where that is the same for every token of the shape, else its spans
        self._shapes: dict[bytes, str | Spans] | None = {} if isinstance(regex, BuiltinMasks) else None
        self._numbers = isinstance(regex, BuiltinMasks) and regex.numbers
        self._dates = regex.dates if isinstance(regex, BuiltinMasks) else frozenset()
        self._spans_of = getattr(regex, "spans", None)

    @property
    def cache(self) -> dict[str, str]:
        return self

    @property
    def lookup(self) -> Callable[[str], str]:
        """The masked token, from the cache or masked now: ``dict.__getitem__``, for C-level ``map``.

        A property rather than an attribute: a bound method kept on the masker would be a
        reference cycle, and a dropped masker (tens of thousands of entries) would then wait
        for the garbage collector instead of being freed at once.
        """
        return self.__getitem__

    def mask(self, token: str) -> str:
        cached = self.get(token)
        return cached if cached is not None else self._mask_new(token)

    def _mask_new(self, token: str) -> str:
        if len(token) > MAX_TOKEN_CHARS:  # a blob (base64, a dump): a variable, and too big to cache
            return WILDCARD
        shapes = self._shapes
        if shapes is None:
            out = self._masked(token)
        # BuiltinMasks' own shortcuts, answered here: a word or a number has no key and no rule
        # but ``date`` / ``number`` that can match it, in any script (a quarter of new tokens each)
        elif token.isalpha():
            out = WILDCARD if token in self._dates else token
        elif token.isdecimal():
            out = WILDCARD if self._numbers else token
        elif not token.isascii() or "<" in token:
            out = self._masked(token)
        else:
            shape = token.encode().translate(
                _ONE_DIGIT_BUT_ZERO if "x" in token or "X" in token else _ONE_DIGIT
            )
            known = shapes.get(shape)
            if known is None:
                if len(shapes) >= self._limit:
                    shapes.clear()
                spans = self._spans(token, self._spans_of)
                out = cut(token, spans)
                # no digit left outside the spans: every token of this shape masks to this very text
                shapes[shape] = out if _DIGIT(out) is None else spans
            elif known.__class__ is str:  # most ids (``blk_<*>``, ``<*>``): no cutting at all
                out = known
            elif len(known) == 1:
                out = token[: known[0][0]] + WILDCARD + token[known[0][1] :]
            else:
                out = cut(token, known)
        if len(self) >= self._limit:
            self.clear()
        self[token] = out
        return out

    __missing__ = _mask_new

    def _spans(self, token: str, spans_of: Any) -> Spans:
        """Where ``_masked`` puts its ``<*>`` in an ASCII token without ``<`` (so every ``<*>`` is one)."""
        start = self._key_end(token)
        found = spans_of(token[start:]) if start < len(token) else ()
        if len(found) < 2:  # nothing to collapse
            return found if not start or not found else ((start + found[0][0], start + found[0][1]),)
        merged: list[list[int]] = []
        for a, b in found:  # collapse: <*> runs joined only by punctuation become one
            if merged and _JOINERS.issuperset(token[start + merged[-1][1] : start + a]):
                merged[-1][1] = b
            else:
                merged.append([a, b])
        return tuple((start + a, start + b) for a, b in merged)

    def _masked(self, token: str) -> str:
        """The token masked by text: its key kept, the rules run on the rest, ``<*>`` runs collapsed."""
        start = self._key_end(token)
        return token[:start] + self._plain(token[start:]) if start else self._plain(token)

    def _key_end(self, token: str) -> int:
        """Where the value starts after the keys at the head of ``token`` (``a=b=1`` -> 4; 0 without a key)."""
        if "=" not in token and ":" not in token:
            return 0
        pos = 0
        while (m := _KEY_VALUE.match(token, pos)) is not None:
            name = m.group(2)
            # "=" always follows a key (r24=); before ":" a name the masks change is a host or a
            # time (node-12:8080, Jul:), whose digits vary like any other
            if name is not None and self._plain(name) != name:
                break
            pos = m.end()
        return pos

    def _plain(self, token: str) -> str:
        """``token`` with every rule's matches replaced by one ``<*>`` (runs joined by punctuation collapsed)."""
        if self._regex is None:
            return token
        out = self._regex.sub(WILDCARD, token)
        if out.count(WILDCARD) > 1:  # a run to collapse needs two
            out = _COLLAPSE.sub(WILDCARD, out)
        return out
