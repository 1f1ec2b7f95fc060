"""The miner's building blocks: clusters (Drain groups), events (what users see) and tree leaves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omniad_logs.parsing.masking import WILDCARD

#: leaves with more clusters than this keep a per-position token index (exact; only saves time)
INDEX_FROM = 16


class Cluster:
    """One Drain group of one token count: its template tokens, its size, its tree leaf, its event."""

    __slots__ = ("event", "params", "path", "pos", "size", "slots", "tokens", "wild")

    def __init__(self, event: Event, tokens: list[str], path: tuple[Any, ...], size: int = 1) -> None:
        self.pos = 0  # index in its leaf
        self.event = event
        self.tokens = tokens
        self.path = path
        self.size = size
        self.refresh()

    def refresh(self) -> None:
        """Re-derive what the hot loop reads from the template: its ``<*>`` count and its variable slots."""
        self.wild = self.tokens.count(WILDCARD)
        self.params = sum(1 for t in self.tokens if WILDCARD in t)  # Drain's tie-break: more variables wins
        # (position, prefix, suffix, parts): a whole <*> is (i, "", "", None); one <*> inside a token
        # is read by slicing; two or more by ``read_slots`` over the literal parts
        slots: list[tuple[int, str, str, tuple[str, ...] | None]] = []
        for i, t in enumerate(self.tokens):
            if WILDCARD not in t:
                continue
            parts = t.split(WILDCARD)
            if len(parts) == 2:
                slots.append((i, parts[0], parts[1], None))
            else:
                slots.append((i, "", "", tuple(parts)))
        self.slots = slots

    @property
    def template(self) -> str:
        return " ".join(self.tokens)


class Event:
    """What a user sees as one template: one or more clusters that differ only in how many variables they hold.

    Drain splits by token count first, so ``sent 5 bytes`` and ``sent 5 bytes (1.2 KB)`` could
    never meet; clusters whose constant tokens are the same sequence are one event instead.
    """

    __slots__ = ("_template", "clusters", "id", "keys")

    def __init__(self, eid: str) -> None:
        self.id = eid
        self.clusters: list[Cluster] = []
        self.keys: list[tuple[str, ...]] = []
        self._template: str | None = None

    @property
    def size(self) -> int:
        return sum(c.size for c in self.clusters)

    @property
    def template(self) -> str:
        """The template of the event's most common cluster (the first one on ties)."""
        if self._template is not None and len(self.clusters) == 1:
            return self._template
        best = self.clusters[0]
        for c in self.clusters[1:]:
            if c.size > best.size:
                best = c
        text = best.template
        self._template = text
        return text

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


def generalise(old: str, new: str) -> str:
    """What a template token becomes when a message disagrees with it: ``<*>``, keeping a shared ``key=``.

    ``rhost=10.0.0.1`` against ``rhost=example.org`` gives ``rhost=<*>``: the key is part of the
    event, only its value varies.
    """
    cut = old.find("=")
    if cut > 0 and new.startswith(old[: cut + 1]) and old[cut + 1:] != new[cut + 1:]:
        return old[: cut + 1] + WILDCARD
    return WILDCARD


def constant_key(tokens: Sequence[str]) -> tuple[str, ...]:
    """The tokens that hold no variable, in order: what two clusters of one event share."""
    return tuple(t for t in tokens if WILDCARD not in t)
