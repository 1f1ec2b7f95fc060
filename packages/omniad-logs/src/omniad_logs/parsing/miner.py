"""A Drain-style online template miner: fixed-depth parse tree + token-similarity groups.

Drain (He et al., ICWS 2017) routes a message through a tree keyed by its token count and its
first few tokens, then joins the most similar group in the leaf if enough tokens agree; the
group's template turns every disagreeing position into ``<*>``. That makes each message cost a
few dict look-ups and one pass over a handful of candidate templates, whatever the log size.
"""

from __future__ import annotations

import gc
import math
import os
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from itertools import compress, count
from operator import eq, getitem, ne
from typing import Any, NamedTuple

from omniad.errors import DataError
from omniad.params import validate_params
from omniad_logs.parsing.columns import enumerated_column
from omniad_logs.parsing.groups import Cluster, Event, Leaf, conflicts, constant_key, generalise, read_slots
from omniad_logs.parsing.masking import (
    MAX_TOKEN_CHARS,
    WILDCARD,
    TokenMasker,
    compile_masks,
    unit_tokens,
)
from omniad_logs.parsing.settings import MinerParams

_HAS_DIGIT = re.compile(r"\d").search

#: exact (masked) token lists remembered per miner for the fast path; cleared when full
RESULT_CACHE_LIMIT = 100_000

#: distinct lines of one ``parse_batch`` whose split is kept for their parameters (later ones are split again):
#: bounds what a huge batch holds (a split is about three times its line)
SPLITS_KEPT = 100_000


class ParseResult(NamedTuple):
    """The event of one message: its group id, the group's template and the masked-out values.

    A named tuple rather than a dataclass because one is built per message and a frozen
    dataclass costs three times as much to create.
    """

    event_id: str
    template: str
    parameters: tuple[str, ...]


#: ``ParseResult(a, b, c)`` without the Python-level ``__new__`` of a named tuple: half the cost, one per message
_result = tuple.__new__


class TemplateMiner:
    """Online log template miner. ``add`` learns, ``match`` only looks up, ``parse_batch`` does a whole list.

    Settings are a ``MinerParams`` (or a mapping / keyword arguments of its fields); the
    defaults are the single setting tuned on loghub (see ``docs/parsing.md``). State is saved
    as plain JSON (``to_json`` / ``from_json``), never pickled.
    """

    def __init__(self, params: MinerParams | Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        if kwargs:
            base = params.model_dump() if isinstance(params, MinerParams) else dict(params or {})
            params = {**base, **kwargs}
        self.params: MinerParams = validate_params(MinerParams, params, "TemplateMiner")
        regex = compile_masks(self.params.masks)
        self._masker = TokenMasker(regex) if regex is not None else None
        self._units = unit_tokens() if "unit" in self.params.masks and self._masker is not None else None
        self._levels = self.params.depth - 2
        self._limit = self.params.max_tokens
        self._lookup = (
            self._masker.lookup if self._masker is not None and not self.params.max_clusters else None
        )
        self._threshold = self.params.similarity
        self._leaves: dict[tuple[Any, ...], Leaf] = {}
        self._children: dict[tuple[Any, ...], set[str]] = {}
        self._events: dict[str, Event] = {}
        self._clusters: list[Cluster] = []  # creation order: leaf order and event order both follow it
        self._by_key: dict[tuple[str, ...], Event] = {}
        self._next_id = 1
        # event ids from least to most recently used, kept only under a cap (``max_clusters``)
        self._recent: OrderedDict[str, None] | None = OrderedDict() if self.params.max_clusters else None
        #: how many events the ``max_clusters`` cap has evicted so far
        self.evicted = 0
        # masked token tuple -> (cluster, leaf, leaf version, units joined?): while the leaf is
        # unchanged, the tree search would give the same answer again, so it is skipped (results
        # are identical)
        self._seen: dict[tuple[str, ...], tuple[Cluster, Leaf, int, bool]] = {}

    # ---------------------------------------------------------------- public API
    def add(self, content: str, *, parameters: bool = True) -> ParseResult:
        """Learn from one message and return its event (the template as it stands after this message).

        ``parameters=False`` leaves them empty, for a caller that never reads them (a live watch
        with a count-vector model): reading them is a tenth of the parse.
        """
        # _observe, inlined for the common case (a str of at most max_tokens tokens, a masked token
        # list seen before in an unchanged leaf, no cap): this path is most of a live parse
        limit = self._limit
        lookup = self._lookup  # None without masks or under a cap: the general path
        if (
            lookup is not None
            and content.__class__ is str
            and len(raw := content.split(None, limit)) <= limit
        ):
            masked = tuple(map(lookup, raw))
            hit = self._seen.get(masked)
            if hit is not None and hit[1].version == hit[2]:
                cluster = hit[0]
                cluster.size += 1
                if hit[3]:
                    raw = self._join_units(raw, list(masked))[0]
            else:
                cluster, raw = self._learn(raw, masked)
        else:
            cluster, raw = self._observe(content, "TemplateMiner.add")
        event = cluster.event
        text = cluster.text if len(event.clusters) == 1 else event.template
        if not parameters:
            return _result(ParseResult, (event.id, text, ()))
        # _learned_parameters, inlined
        whole = cluster.whole
        if whole is not None:
            values = whole(raw) if cluster.params > 1 else (whole(raw),)
        elif (cuts := cluster.cuts) is not None:
            values = (
                tuple(map(getitem, cuts[0](raw), cuts[1]))
                if cluster.params > 1
                else (cuts[0](raw)[cuts[1][0]],)
            )
        else:
            values = self._parameters(cluster, raw) if cluster.slots else ()
        return _result(ParseResult, (event.id, text, values))

    def match(self, content: str) -> ParseResult | None:
        """The event of a message without learning from it; ``None`` when no group is similar enough.

        A template ``<*>`` matches any token here. A message of a length no group of its event
        has seen, but with exactly an event's constant tokens, gets that event (and no
        parameters, since no template of its length exists to read them from).
        """
        raw, tokens = self._tokenize(content, "TemplateMiner.match")
        if self._units is not None:
            raw, tokens = self._join_units(raw, tokens)
        cluster = self._search(tokens, learning=False)
        if cluster is None:
            event = self._by_key.get(constant_key(tokens))
            if event is None:
                return None
            return ParseResult(event.id, event.template, ())
        event = cluster.event
        return ParseResult(event.id, event.template, self._parameters(cluster, raw))

    def parse_batch(self, contents: Iterable[str]) -> list[ParseResult]:
        """Learn from every message in order; each result carries its event's final template.

        The lines go through ``add`` one by one; then, unlike a stream, the batch can look at
        each group it created as a whole: a variable column that holds only a few words
        (``split_values``, default 2), each on two or more lines, is constants, and the group
        splits by it (``columns.enumerated_column``): ``stored as bytes`` / ``stored as values``
        become two events. The largest part keeps the group's event id, the others get new ones,
        and the split groups stay in the state, so ``add`` and ``match`` give later lines of each
        part the same ids. With ``split_values=0`` the ids are exactly the ones ``add`` returns.
        The template text and the parameters are read at the end, once every event has seen all
        its messages, so all messages of one event share one template.
        """
        if isinstance(contents, (str, bytes)) or not isinstance(contents, Iterable):
            raise DataError(
                f"TemplateMiner.parse_batch: give a list of message strings, got {type(contents).__name__}"
            )
        contents = list(contents)
        if not set(map(type, contents)) <= {str}:  # check all first, so a bad batch teaches nothing
            for i, content in enumerate(contents):
                if not isinstance(content, str):
                    self._tokenize(content, f"TemplateMiner.parse_batch: message #{i}")
        before = {id(c) for c in self._clusters}
        # The batch makes and keeps a few objects per line and leaves no cycles to collect; the cyclic
        # collector would still walk them, and every object of the caller's process, again and again
        # while it runs (in a process with a large heap one full walk costs more than the batch). So it
        # rests while the batch runs and is left as it was found, however the batch ends.
        paused = gc.isenabled()
        if paused:
            gc.disable()
        try:
            owners, masked_of, odd, learned, splits = self._batch_pass(contents)
            if self.params.split_values:
                self._split_enumerations(contents, owners, masked_of, odd, learned, before)
            return self._batch_results(contents, owners, odd, splits)
        finally:
            if paused:
                gc.enable()

    def _batch_pass(
        self, contents: list[str]
    ) -> tuple[
        list[Cluster],
        dict[str, tuple[str, ...]],
        dict[str, list[str]],
        dict[Cluster, set[tuple[str, ...]]],
        dict[str, list[str]],
    ]:
        """``add`` over the batch without its results: each line's group, and the lines' masked tokens.

        Loghub-like logs repeat exact lines (half of the 2k samples' lines are repeats), so a line
        seen before in this batch reuses its masked tokens: only the repeat-shortcut look-up (or,
        where the leaf changed, the search) runs again, so the groups are exactly ``add``'s.
        A distinct line's split is kept for its parameters at the end (``splits``; with the collector
        resting, keeping it costs less than splitting again), up to ``SPLITS_KEPT`` lines, later
        ones are split again. Where the split is not the answer (unit words joined to their
        numbers, lines off the fast path: no masks, a cap, an overlong line) the ``odd`` mapping
        holds the raw tokens as the line's template reads them.
        """
        owners: list[Cluster] = []
        keep = owners.append
        limit = self._limit
        lookup = self._lookup  # None without masks or under a cap: the general path
        units = self._units.keys() if self._units is not None else None
        repeat = self._seen.get  # the same dict throughout: it is only ever cleared
        masked_of: dict[str, tuple[str, ...]] = {}  # line -> its masked tokens (the repeat shortcut's key)
        odd: dict[str, list[str]] = {}
        splits: dict[str, list[str]] = {}  # line -> its split, for its parameters at the end (bounded)
        room = SPLITS_KEPT
        # group -> the masked token lists that joined it through the search: every line the repeat
        # shortcut sends to a group has one of them, so a group with one has one row shape only
        learned: dict[Cluster, set[tuple[str, ...]]] = {}
        known = masked_of.get
        # masked token list -> (one shared copy of it, whether it holds unit words): one tuple per distinct
        # list (a few hundred), not one per distinct line (thousands), keeps fewer objects alive through
        # the batch (fewer garbage-collector passes), and the unit words are looked for once per list
        shapes: dict[tuple[str, ...], tuple[tuple[str, ...], bool]] = {}
        for content in contents:
            # _observe, inlined as in ``add`` for a repeated masked token list in an unchanged leaf
            masked = known(content)
            glued = None  # this line's _join_units, when it has unit words
            if masked is None:
                if (
                    lookup is None
                    or content.__class__ is not str
                    or len(raw := content.split(None, limit)) > limit
                ):
                    cluster, odd[content] = self._observe(content, "TemplateMiner.parse_batch")
                    keep(cluster)
                    continue
                masked = tuple(map(lookup, raw))
                shape = shapes.get(masked)
                if shape is None:  # unit words are masked tokens too: whether they join is the shape's
                    shape = shapes[masked] = (masked, units is not None and not units.isdisjoint(masked))
                masked = masked_of[content] = shape[0]
                if shape[1]:
                    glued = self._join_units(raw, masked)
                    odd[content] = glued[0]
                elif room:
                    splits[content] = raw
                    room -= 1
            else:
                raw = None
            hit = repeat(masked)
            if hit is not None and hit[1].version == hit[2]:
                cluster = hit[0]
                cluster.size += 1
                keep(cluster)
            else:
                if raw is None:
                    raw = content.split(None, limit)
                cluster = self._learn(raw, masked, glued)[0]
                learned.setdefault(cluster, set()).add(masked)
                keep(cluster)
        return owners, masked_of, odd, learned, splits

    def _batch_results(
        self,
        contents: list[str],
        owners: list[Cluster],
        odd: dict[str, list[str]],
        splits: dict[str, list[str]],
    ) -> list[ParseResult]:
        """Each line's result from its group's final template; a line repeated in one group shares one result."""
        out: list[ParseResult] = []
        emit = out.append
        limit = self._limit
        odd_tokens = odd.get
        split_of = splits.get
        # line -> its latest group and result (two dicts: a pair per line would be one more object to keep)
        last_group: dict[str, Cluster] = {}
        last_result: dict[str, ParseResult] = {}
        group_of = last_group.get
        # event of several groups -> template (``Event.template`` compares their sizes)
        texts: dict[str, str] = {}
        for cluster, content in zip(owners, contents):
            if group_of(content) is cluster:
                emit(last_result[content])
                continue
            event = cluster.event
            if len(event.clusters) == 1:
                text = cluster.text
            elif (text := texts.get(event.id)) is None:
                text = texts[event.id] = event.template
            if cluster.slots:
                raw = split_of(content) or odd_tokens(content) or content.split(None, limit)
                # _learned_parameters, inlined
                if (whole := cluster.whole) is not None:
                    values = whole(raw) if cluster.params > 1 else (whole(raw),)
                elif (cuts := cluster.cuts) is not None:
                    values = (
                        tuple(map(getitem, cuts[0](raw), cuts[1]))
                        if cluster.params > 1
                        else (cuts[0](raw)[cuts[1][0]],)
                    )
                else:
                    values = self._parameters(cluster, raw)
            else:
                values = ()
            result = last_result[content] = _result(ParseResult, (event.id, text, values))
            last_group[content] = cluster
            emit(result)
        return out

    def _split_enumerations(
        self,
        contents: list[str],
        owners: list[Cluster],
        masked_of: dict[str, tuple[str, ...]],
        odd: dict[str, list[str]],
        learned: dict[Cluster, set[tuple[str, ...]]],
        before: set[int],
    ) -> None:
        """Split the groups this batch created by their enumerated columns (see ``parse_batch``); updates ``owners``.

        Only groups created in this batch are looked at: all their lines are in it, so a column's
        values are known in full. Columns inside the tree's routing prefix are never variable
        words, so a split part stays in its group's leaf.
        """
        start = self._levels
        fresh = {
            id(c): c
            for c in self._clusters
            if id(c) not in before
            and c.size >= 4
            and any(s[0] >= start for s in c.slots)
            # a column needs two values, so two row shapes; known only when every line took the fast
            # path without unit words (those rows are the masked token lists the search saw)
            and (odd or len(learned.get(c, ())) >= 2)
        }
        if not fresh:
            return
        lines: dict[int, list[int]] = {key: [] for key in fresh}
        for i, key in enumerate(map(id, owners)):
            if key in lines:
                lines[key].append(i)
        masker = self._masker
        mask = masker.lookup if masker is not None else str
        stop, most = self._limit, self.params.split_values
        changed = False
        work = [(fresh[k], idx) for k, idx in lines.items() if len(idx) >= 4]
        # each line's masked tokens or, where its template's tokens are not its split (``odd``), those raw
        # tokens; ``enumerated_column`` masks a row's word only where it looks at a column. Either row gives
        # the same answer: a column qualifies only where the masks leave every word whole, and there a
        # masked token is its raw word; a token that holds ``<*>`` keeps one when masked again.
        rows = {**masked_of, **odd} if odd else masked_of
        while work:
            cluster, idx = work.pop()
            plan = enumerated_column(
                cluster.tokens,
                [rows[contents[i]] for i in idx],
                start=start,
                stop=stop,
                max_values=most,
                mask=mask,
            )
            if plan is None:
                continue
            j, parts = plan
            order = sorted(parts, key=lambda v: -len(parts[v]))  # stable: first seen wins ties
            leaf = self._leaves[cluster.path]
            for rank, value in enumerate(order):
                members = [idx[r] for r in parts[value]]
                tokens = cluster.tokens if rank == 0 else list(cluster.tokens)
                old, tokens[j] = tokens[j], mask(value)
                if rank == 0:  # the largest part keeps the group (and its event id)
                    part = cluster
                    leaf.generalised(cluster, j, old, tokens[j])
                    cluster.refresh()
                else:
                    constants = constant_key(tokens)
                    event = self._by_key.get(constants) if constants else None
                    if event is None:
                        event = self._new_event()
                        if constants:
                            event.keys.append(constants)
                            self._by_key[constants] = event
                    if self._recent is not None:
                        self._recent[event.id] = None
                    part = Cluster(event, tokens, cluster.path, len(members))
                    self._attach(part)
                    for i in members:
                        owners[i] = part
                constants = constant_key(part.tokens)
                if constants and constants not in self._by_key:
                    self._by_key[constants] = part.event
                    part.event.keys.append(constants)
                part.event.changed()
                work.append((part, members))
            cluster.size -= sum(len(v) for v in parts.values()) - len(parts[order[0]])
            leaf.version += 1
            changed = True
        if changed:
            self._seen.clear()
            if self._recent is not None and len(self._events) > (self.params.max_clusters or 0):
                self._evict(owners[-1].event)

    def templates(self) -> dict[str, str]:
        """Event id -> current template text, in order of creation."""
        return {eid: e.template for eid, e in self._events.items()}

    def sizes(self) -> dict[str, int]:
        """Event id -> how many messages joined the event."""
        return {eid: e.size for eid, e in self._events.items()}

    def __len__(self) -> int:
        return len(self._events)

    def forget(self, event_id: str) -> bool:
        """Evict an event and its groups (a live watcher's cap on templates, as drain3's ``max_clusters``).

        A later message of that kind starts a new event with a new id. Returns whether the
        event existed.
        """
        event = self._events.pop(event_id, None)
        if event is None:
            return False
        gone = {id(c) for c in event.clusters}
        self._clusters = [c for c in self._clusters if id(c) not in gone]
        for cluster in event.clusters:
            leaf = self._leaves.get(cluster.path)
            if leaf is not None:
                leaf.remove(cluster)
                if not leaf.clusters:
                    self._prune(cluster.path)
        for key in event.keys:
            if self._by_key.get(key) is event:
                del self._by_key[key]
        if self._recent is not None:
            self._recent.pop(event_id, None)
        self._seen.clear()
        return True

    def _prune(self, path: tuple[Any, ...]) -> None:
        """Drop an emptied leaf and the tree branches that led only to it.

        So a capped miner's tree stays as small as its groups, and the tree is the one that
        ``from_json`` rebuilds from the remaining groups (which routes later messages alike).
        """
        del self._leaves[path]
        children = self._children
        for d in range(len(path), 1, -1):
            node = path[:d]
            if children.get(node):  # another branch still passes here
                break
            children.pop(node, None)
            parent = children.get(path[: d - 1])
            if parent is not None:
                parent.discard(path[d - 1])
        else:
            if not children.get(path[:1]):
                children.pop(path[:1], None)

    def _evict(self, keep: Event) -> None:
        """Forget least recently used events until the cap holds again (never ``keep``, the one just made)."""
        recent = self._recent
        cap = self.params.max_clusters
        assert recent is not None and cap is not None
        while len(self._events) > cap:
            oldest = next(iter(recent))
            if oldest == keep.id:  # cannot happen while cap >= 1; guards the loop
                break
            self.forget(oldest)
            self.evicted += 1

    def to_json(self) -> str:
        """The whole state as plain JSON (schema-versioned); ``from_json`` restores it exactly."""
        from omniad_logs.parsing.state import dump_state

        return dump_state(self)

    @classmethod
    def from_json(cls, text: str | bytes, source: str | os.PathLike[str] | None = None) -> TemplateMiner:
        """Restore a miner from ``to_json`` output; validates every field and never runs code from it.

        ``source`` (the file the text was read from) is named in every error. The state is
        untrusted: its masks run on RE2 (``masking``), so no state can make parsing hang.
        """
        from omniad_logs.parsing.state import load_state

        return load_state(cls, text, source)

    # ---------------------------------------------------------------- internals
    def _tokenize(self, content: Any, where: str) -> tuple[list[str], list[str]]:
        """Raw and masked tokens (unit words not yet joined); at most ``max_tokens`` plus one variable for the rest."""
        if content.__class__ is not str and not isinstance(content, str):
            raise DataError(
                f"{where}: a message must be a str, got {type(content).__name__}; decode bytes and convert values with str()"
            )
        limit = self._limit
        raw = content.split(None, limit)
        masker = self._masker
        if masker is None:
            tokens = raw if len(raw) <= limit else [*raw[:limit], WILDCARD]
            if len(content) > MAX_TOKEN_CHARS:
                tokens = [t if len(t) <= MAX_TOKEN_CHARS else WILDCARD for t in tokens]
            return raw, tokens
        if len(raw) > limit:  # the unread rest of a huge message is one variable slot
            return raw, [*map(masker.lookup, raw[:limit]), WILDCARD]
        return raw, [*map(masker.lookup, raw)]

    def _observe(self, content: Any, where: str) -> tuple[Cluster, list[str]]:
        """Learn one message: its cluster and its raw tokens (unit words joined as in the template).

        The repeat shortcut is keyed on the masked tokens before unit words are joined: a masked
        token is a unit word exactly when its raw token is one (masks only ever put ``<*>`` in), so
        those tokens decide the joining, and the entry remembers whether there was any.
        """
        raw, tokens = self._tokenize(content, where)
        hit = self._seen.get(tuple(tokens))
        if hit is not None and hit[1].version == hit[2]:
            cluster = hit[0]
            cluster.size += 1
            if self._recent is not None:
                self._recent.move_to_end(cluster.event.id)
            return cluster, (self._join_units(raw, tokens)[0] if hit[3] else raw)
        return self._learn(raw, tokens)

    def _join_units(self, raw: list[str], tokens: list[str]) -> tuple[list[str], list[str]]:
        """Glue a unit word to the masked number before it: ``(1.21`` ``KB)`` -> ``(<*>)``.

        Left to right, so a glued token can take the next unit too; only the unit words are
        visited (a message holds one or two among a dozen tokens).
        """
        units = self._units
        if units is None or units.keys().isdisjoint(tokens):
            return raw, tokens
        hits = [*compress(count(), map(units.__contains__, raw))]
        out_raw, out_tok = list(raw), list(tokens)
        gone = 0
        for i in hits:
            j = i - gone
            if j > 0 and out_tok[j - 1].endswith(WILDCARD):
                r = raw[i]
                out_raw[j - 1] = out_raw[j - 1] + " " + r
                out_tok[j - 1] = out_tok[j - 1] + units[r]
                del out_raw[j], out_tok[j]
                gone += 1
        return out_raw, out_tok

    def _path(self, tokens: list[str]) -> tuple[Any, ...] | None:
        """The leaf a token list routes to, or ``None`` when the tree has no such branch."""
        n = len(tokens)
        prefix: tuple[Any, ...] = (n,)
        children = self._children
        for token in tokens[: min(self._levels, n)]:
            kids = children.get(prefix)
            if kids is None:
                return None
            if token in kids:
                prefix = (*prefix, token)
            elif WILDCARD in kids:
                prefix = (*prefix, WILDCARD)
            else:
                return None
        return prefix

    def _insert_path(self, tokens: list[str]) -> tuple[Any, ...]:
        """Drain's insertion rule: variable tokens and tokens with digits go to ``<*>``, as do new tokens at a full node."""
        n = len(tokens)
        prefix: tuple[Any, ...] = (n,)
        limit = self.params.max_children
        children = self._children
        for token in tokens[: min(self._levels, n)]:
            kids = children.setdefault(prefix, set())
            if token in kids:
                key = token
            elif WILDCARD in token or _HAS_DIGIT(token):
                key = WILDCARD
            elif WILDCARD in kids:
                key = token if len(kids) < limit else WILDCARD
            elif len(kids) + 1 < limit:
                key = token
            else:
                key = WILDCARD
            if key not in kids and key != WILDCARD and WILDCARD in kids:
                # messages with this token routed through <*> here until now; the repeat
                # shortcut remembers those routes, and from now on the tree sends them here
                self._seen.clear()
            kids.add(key)
            prefix = (*prefix, key)
        children.setdefault(prefix, set())
        return prefix

    def _search(self, tokens: list[str], *, learning: bool, leaf: Leaf | None = None) -> Cluster | None:
        """The most similar cluster of the leaf, if similar enough.

        Similarity is the share of the message's constant positions that the template has
        too: positions where both sides are the same masked variable say nothing about which
        event this is, so they count neither for nor against (in Drain they count for, which
        lets two messages that share only their numbers look alike). A template position
        already generalised to ``<*>`` counts against while learning (as in Drain, so a group
        does not swallow everything) and for when only matching.
        """
        if leaf is None:
            path = self._path(tokens)
            if path is None:
                return None
            leaf = self._leaves.get(path)
            if leaf is None:
                return None
        n = len(tokens)
        threshold = self._threshold
        clusters = self._candidates(leaf, tokens) if learning and leaf.index is not None else leaf.clusters
        if not clusters:
            return None
        sames = [sum(map(eq, c.tokens, tokens)) for c in clusters]
        variable = [i for i, t in enumerate(tokens) if WILDCARD in t]
        best: Cluster | None = None
        if learning and not variable:
            # no variables in the message: similarity is same / n, so the best is the largest same
            top = -1
            top_params = -1
            for cluster, same in zip(clusters, sames):
                if (
                    same < top
                    or (same == top and cluster.params <= top_params)
                    or (n and same / n < threshold)
                ):
                    continue
                if same < n and conflicts(cluster.tokens, tokens):
                    continue
                best, top, top_params = cluster, same, cluster.params
            return best
        # shared variables only lower the score, so same / n bounds it: skip hopeless candidates
        floor = threshold * n if learning else 0.0
        best_sim = -1.0
        best_wild = -1
        best_same = -1
        for cluster, same in zip(clusters, sames):
            if same < floor:
                continue
            template = cluster.tokens
            wild = cluster.wild
            shared = 0
            for i in variable:
                if template[i] == tokens[i]:
                    shared += 1
            rest = n - shared
            if learning:
                sim = (same - shared) / rest if rest > 0 else 1.0
            else:
                # a template <*> matches anything; where the message has <*> too it was counted in same
                overlap = sum(1 for i in variable if template[i] == WILDCARD == tokens[i])
                sim = (same - shared + wild - overlap) / rest if rest > 0 else 1.0
            if learning:
                better = sim > best_sim or (sim == best_sim and cluster.params > best_wild)
            else:  # on a tie, a template that has the message's own words beats one whose <*> stand in for them
                better = sim > best_sim or (
                    sim == best_sim and (same, cluster.params) > (best_same, best_wild)
                )
            if better:
                if same < n and conflicts(template, tokens):
                    continue
                best, best_sim, best_wild, best_same = cluster, sim, cluster.params, same
        if best_sim < threshold:
            return None
        return best

    def _candidates(self, leaf: Leaf, tokens: list[str]) -> list[Cluster]:
        """The clusters of a big leaf that can still reach the threshold, in leaf order.

        Learning similarity never exceeds (equal positions) / n, so a cluster needs at least
        ceil(threshold * n) equal positions, i.e. at most m = n - that many unequal ones. Of any
        m + 1 positions it must then match one; taking the m + 1 positions whose tokens are
        rarest in the leaf leaves only a few clusters to score, and the result is exactly that
        of scoring them all.
        """
        n = len(tokens)
        allowed = n - math.ceil(self._threshold * n - 1e-9)
        index = leaf.index
        empty: set[int] = set()
        postings = sorted((index[p].get(t, empty) for p, t in enumerate(tokens)), key=len)
        chosen = set().union(*postings[: allowed + 1])
        clusters = leaf.clusters
        return [clusters[i] for i in sorted(chosen)]

    def _new_event(self) -> Event:
        eid = f"T{self._next_id}"
        while eid in self._events:  # a hand-edited state may reuse ids; never overwrite an event
            self._next_id += 1
            eid = f"T{self._next_id}"
        self._next_id += 1
        event = self._events[eid] = Event(eid)
        return event

    def _attach(self, cluster: Cluster) -> Leaf:
        """Put a new cluster into its event, its leaf and the creation order."""
        cluster.event.clusters.append(cluster)
        cluster.event.changed()
        self._clusters.append(cluster)
        leaf = self._leaves.get(cluster.path)
        if leaf is None:
            leaf = self._leaves[cluster.path] = Leaf()
        leaf.add(cluster)
        return leaf

    def _learn(
        self, raw: list[str], masked: Sequence[str], units: tuple[list[str], list[str]] | None = None
    ) -> tuple[Cluster, list[str]]:
        """The tree search and the template update for a message the repeat shortcut did not know.

        ``masked`` is only read, so the caller's tuple (the repeat shortcut's key) is taken as it
        is; ``units`` is ``_join_units(raw, masked)`` where the caller has joined them already.
        """
        key = tuple(masked)
        raw, tokens = units if units is not None else self._join_units(raw, masked)
        joined = len(tokens) != len(masked)
        path = self._path(tokens)
        leaf = self._leaves.get(path) if path is not None else None
        cluster = self._search(tokens, learning=True, leaf=leaf) if leaf is not None else None
        if cluster is None:
            constants = constant_key(tokens)
            # a message of variables only has no constants to prove which event it belongs to
            event = self._by_key.get(constants) if constants else None
            fresh = event is None
            if event is None:
                event = self._new_event()
                if constants:
                    event.keys.append(constants)
                    self._by_key[constants] = event
            cluster = Cluster(event, list(tokens), self._insert_path(tokens))
            leaf = self._attach(cluster)
            if self._recent is not None:
                self._recent[event.id] = None
                self._recent.move_to_end(event.id)
                if fresh and len(self._events) > (self.params.max_clusters or 0):
                    self._evict(event)
        else:
            cluster.size += 1
            if self._recent is not None:
                self._recent.move_to_end(cluster.event.id)
            template = cluster.tokens
            n = len(tokens)
            same = sum(map(eq, template, tokens))
            changed = False
            # nothing to generalise when all agree, or when the only disagreements are template
            # <*> slots (without <*> in the message, same + wild >= n says exactly that)
            if same < n and (same + cluster.wild < n or WILDCARD in tokens):
                for i in compress(range(n), map(ne, template, tokens)):
                    t1 = template[i]
                    if t1 == WILDCARD:
                        continue
                    t3 = generalise(t1, tokens[i])
                    if t3 != t1:
                        template[i] = t3
                        leaf.generalised(cluster, i, t1, t3)
                        changed = True
            if changed:
                cluster.refresh()
                cluster.event.changed()
                leaf.version += 1
                constants = constant_key(template)
                if constants and constants not in self._by_key:
                    self._by_key[constants] = cluster.event
                    cluster.event.keys.append(constants)
        if len(self._seen) >= RESULT_CACHE_LIMIT:
            self._seen.clear()
        self._seen[key] = (cluster, leaf, leaf.version, joined)
        return cluster, raw

    @classmethod
    def _learned_parameters(cls, cluster: Cluster, raw: list[str]) -> tuple[str, ...]:
        """``_parameters`` for a message the cluster learned, without checking that its tokens fit.

        They always do: at a slot the template holds the message's own masked token or a ``<*>`` /
        ``key=<*>`` made from it, and masking keeps the text around each ``<*>`` verbatim, so the
        template's prefix and suffix are the raw token's.
        """
        whole = cluster.whole
        if whole is not None:  # every slot a whole token: one C-level itemgetter
            return whole(raw) if cluster.params > 1 else (whole(raw),)
        cuts = cluster.cuts
        if cuts is None:
            return cls._parameters(cluster, raw) if cluster.slots else ()
        getter, slices = cuts  # C-level too: the tokens, then each one's slice
        return tuple(map(getitem, getter(raw), slices)) if cluster.params > 1 else (getter(raw)[slices[0]],)

    @staticmethod
    def _parameters(cluster: Cluster, raw: Sequence[str]) -> tuple[str, ...]:
        """The raw values under the template's variable slots (whole tokens, or the part a mask covered)."""
        if not cluster.slots:
            return ()
        whole = cluster.whole
        if whole is not None:  # every slot a whole token: one C-level itemgetter
            return whole(raw) if len(cluster.slots) > 1 else (whole(raw),)
        out: list[str] = []
        n = len(raw)
        for i, prefix, suffix, parts in cluster.slots:
            if i >= n:
                break
            token = raw[i]
            if parts is None:
                if not prefix and not suffix:
                    out.append(token)
                elif (
                    len(token) >= len(prefix) + len(suffix)
                    and token.startswith(prefix)
                    and token.endswith(suffix)
                ):
                    out.append(token[len(prefix) : len(token) - len(suffix)])
                else:
                    out.append(token)
                continue
            values = read_slots(parts, token)
            out.extend(values if values is not None else (token,))
        return tuple(out)
