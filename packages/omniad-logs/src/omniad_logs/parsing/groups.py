"""The miner's building blocks: clusters (Drain groups), events (what users see) and tree leaves."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import compress
from operator import itemgetter, ne
from typing import Any

from omniad_logs.parsing.masking import WILDCARD
from omniad_logs.parsing.masking import key_head as _key_head

#: leaves with more clusters than this keep a per-position token index (exact; only saves time)
INDEX_FROM = 16


class Cluster:
    """One Drain group of one token count: its template tokens, its size, its tree leaf, its event."""

    __slots__ = ("cuts", "event", "params", "path", "pos", "size", "slots", "text", "tokens", "whole", "wild")

    def __init__(self, event: Event, tokens: list[str], path: tuple[Any, ...], size: int = 1) -> None:
        self.pos = 0  # index in its leaf
        self.event = event
        self.tokens = tokens
        self.path = path
        self.size = size
        self.refresh()

    def refresh(self) -> None:
        """Re-derive what the hot loop reads from the template: its ``<*>`` count and its variable slots.

        Slots are (position, prefix, suffix, parts): a whole ``<*>`` is (i, "", "", None); one ``<*>``
        inside a token is read by slicing; two or more by ``read_slots`` over the literal parts. A
        learned message's values are read (``TemplateMiner._learned_parameters``) with ``whole``, one
        itemgetter, when every slot is a whole token, else with ``cuts``, an itemgetter and a slice
        per slot, when no token holds two ``<*>``.
        """
        tokens = self.tokens
        self.text = " ".join(tokens)
        self.wild = tokens.count(WILDCARD)
        slots: list[tuple[int, str, str, tuple[str, ...] | None]] = []
        whole = True
        multi = False
        for i, t in enumerate(tokens):
            if WILDCARD not in t:
                continue
            if t == WILDCARD:
                slots.append((i, "", "", None))
                continue
            whole = False
            parts = t.split(WILDCARD)
            if len(parts) == 2:
                slots.append((i, parts[0], parts[1], None))
            else:
                multi = True
                slots.append((i, "", "", tuple(parts)))
        self.slots = slots
        self.params = len(slots)  # Drain's tie-break: more variables wins
        self.whole = itemgetter(*(s[0] for s in slots)) if slots and whole else None
        self.cuts = (itemgetter(*(s[0] for s in slots)), tuple(slice(len(p), -len(q) or None) for _, p, q, _ in slots)
                     ) if slots and not multi else None

    @property
    def template(self) -> str:
        return self.text


class Event:
    """What a user sees as one template: one or more clusters that differ only in how many variables they hold.

    Drain splits by token count first, so ``sent 5 bytes`` and ``sent 5 bytes (1.2 KB)`` could
    never meet; clusters whose constant tokens are the same sequence are one event instead.
    """

    __slots__ = ("_best", "_template", "clusters", "id", "keys")

    def __init__(self, eid: str) -> None:
        self.id = eid
        self.clusters: list[Cluster] = []
        self.keys: list[tuple[str, ...]] = []
        self._template: str | None = None
        self._best: Cluster | None = None

    @property
    def size(self) -> int:
        return sum(c.size for c in self.clusters)

    @property
    def template(self) -> str:
        """The template of the event's most common cluster (the first one on ties); read once per message."""
        clusters = self.clusters
        best = clusters[0]
        if len(clusters) > 1:
            for c in clusters:
                if c.size > best.size:
                    best = c
        if best is not self._best or self._template is None:
            self._best = best
            self._template = best.template
        return self._template

    def changed(self) -> None:
        self._template = None


class Leaf:
    """The clusters at one tree leaf, with a version that changes whenever any of them does.

    A leaf that grows past ``INDEX_FROM`` clusters also keeps, per token position, which
    clusters hold which token there, so a search can skip clusters that cannot reach the
    threshold (see ``TemplateMiner._candidates``).
    """

    __slots__ = ("clusters", "index", "version")

    def __init__(self) -> None:
        self.clusters: list[Cluster] = []
        self.version = 0
        self.index: list[dict[str, set[int]]] | None = None

    def add(self, cluster: Cluster) -> None:
        cluster.pos = len(self.clusters)
        self.clusters.append(cluster)
        self.version += 1
        if self.index is not None:
            for p, token in enumerate(cluster.tokens):
                self.index[p].setdefault(token, set()).add(cluster.pos)
        elif len(self.clusters) > INDEX_FROM and cluster.tokens:
            self.index = [{} for _ in cluster.tokens]
            for c in self.clusters:
                for p, token in enumerate(c.tokens):
                    self.index[p].setdefault(token, set()).add(c.pos)

    def remove(self, cluster: Cluster) -> None:
        """Drop ``cluster`` (its event was evicted): positions and the token index are rebuilt."""
        self.clusters = [c for c in self.clusters if c is not cluster]
        for pos, c in enumerate(self.clusters):
            c.pos = pos
        self.version += 1
        self.index = None
        if len(self.clusters) > INDEX_FROM and self.clusters[0].tokens:
            self.index = [{} for _ in self.clusters[0].tokens]
            for c in self.clusters:
                for p, token in enumerate(c.tokens):
                    self.index[p].setdefault(token, set()).add(c.pos)

    def generalised(self, cluster: Cluster, position: int, old: str, new: str) -> None:
        """Record that ``cluster``'s token at ``position`` went from ``old`` to ``new``."""
        if self.index is not None:
            self.index[position][old].discard(cluster.pos)
            self.index[position].setdefault(new, set()).add(cluster.pos)


def read_slots(parts: Sequence[str], token: str) -> tuple[str, ...] | None:
    """The values under the ``<*>`` of a token template split at them into ``parts``; None if it does not fit.

    ``blk_<*>_<*>`` is ``("blk_", "_", "")``. Each value is as short as it can be (the first
    occurrence of the next literal), which is what the regex ``blk_(.*?)_(.*?)\\Z`` gives, but in
    time linear in the token: templates come from saved states too, and that regex backtracks
    polynomially in the number of ``<*>`` (a hand-made state with 20 of them never returned).
    """
    first, last = parts[0], parts[-1]
    end = len(token) - len(last)
    if end < len(first) or not token.startswith(first) or not token.endswith(last):
        return None
    pos = len(first)
    out: list[str] = []
    for literal in parts[1:-1]:
        at = token.find(literal, pos, end)
        if at < 0:
            return None
        out.append(token[pos:at])
        pos = at + len(literal)
    out.append(token[pos:end])
    return tuple(out)


#: a word that names what happened rather than what it happened to: an inflected verb (Started,
#: spawned, LOOKING) or a CONSTANT_CASE state or verb (RUNNING, TASK_ABORT, "GET), in brackets or
#: quotes or before punctuation
_EVENT_WORD = re.compile(r"[(\[\"']?(?:[A-Za-z]{3,}(?:ed|ing)|[A-Z][A-Z0-9_]*[A-Z])[)\]\"']?[.,;:!]?")

#: the per-token answers below are cached (bounded): tokens repeat, and searches ask about the same ones
key_head = lru_cache(maxsize=1 << 16)(_key_head)


@lru_cache(maxsize=1 << 16)
def is_event_word(token: str) -> bool:
    """Whether ``token`` is an inflected verb or a CONSTANT_CASE name (see ``conflicts``)."""
    return _EVENT_WORD.fullmatch(token) is not None


@lru_cache(maxsize=1 << 16)
def is_symbols(token: str) -> bool:
    """Whether ``token`` is punctuation that structures a message (``-``, ``:``, ``****``, ``->``).

    Brackets or quotes with nothing inside (``()``, ``""``, ``[],``) are an empty value instead, and may vary.
    """
    if WILDCARD in token or any(c.isalnum() for c in token):
        return False
    body = token.rstrip(",.;:")
    return not body or bool(body.strip("()[]{}<>\"'`"))


def conflicts(template: Sequence[str], tokens: Sequence[str]) -> bool:
    """Whether a message differs from a template in a constant that the similarity score must not overrule.

    Three kinds, all about what a token is rather than how many tokens agree:

    * **Keys.** Keys are constants, so a message with, at some position, another key than the
      template (or a key where it has none) is another event however similar the rest is:
      ``onExtend:<*>`` and ``setTotalSteps=<*>`` must never become one ``<*>``.
    * **Symbols.** A token of punctuation only (``-``, ``****``, ``->``) is structure, never a
      value: ``Fan speeds ( 1 2 **** 4 )`` (a sensor that did not answer) is not
      ``Fan speeds ( 1 2 3 4 )``.
    * **Event words.** Where both tokens are inflected verbs or CONSTANT_CASE states, they
      say what happened (``VM Started`` / ``VM Paused``, ``spawned`` / ``destroyed``, ``RUNNING`` /
      ``FAILED``): a message that differs only there is another event, even when it shares every
      other token. Names of things (``user root`` / ``user cyrus``) are left to the score. The
      word forms stand in for what a reader (or an LLM-based parser) knows about log language:
      events are told by verbs and states, variables are names; where a log's ground truth
      calls such a word a variable (Hadoop's ``EventType: CONTAINER_REMOTE_<*>``) it costs.

    A template ``<*>`` takes any token but a symbol.
    """
    for i in compress(range(len(tokens)), map(ne, template, tokens)):
        old = template[i]
        new = tokens[i]
        if old == WILDCARD:
            if is_symbols(new):
                return True
            continue
        head = key_head(old)
        if head != key_head(new):
            return True
        if head is None and (is_symbols(old) or is_symbols(new) or (is_event_word(old) and is_event_word(new))):
            return True
    return False


def generalise(old: str, new: str) -> str:
    """What a template token becomes when a message disagrees with it: ``<*>``, keeping a shared key.

    ``rhost=10.0.0.1`` against ``rhost=example.org`` gives ``rhost=<*>``: the key is part of the
    event, only its value varies (``conflicts`` never lets two different keys meet here).
    """
    head = key_head(old)
    if head is not None and key_head(new) == head:
        return head + WILDCARD
    return WILDCARD


def constant_key(tokens: Sequence[str]) -> tuple[str, ...]:
    """The constant parts of a token list, in order: what two clusters of one event share.

    A token without ``<*>`` is a constant; of a ``key=<*>`` token the key is (``onExtend:<*>``
    contributes ``onExtend:``); any other token with a variable contributes nothing, so
    ``sent <*> bytes`` and ``sent <*> bytes (<*>)`` share their key. A message of variables
    only has an empty key: nothing to tell its events apart by (``TemplateMiner`` never joins those).
    """
    out = []
    for t in tokens:
        if WILDCARD not in t:
            out.append(t)
        else:
            head = key_head(t)
            if head is not None:
                out.append(head)
    return tuple(out)
