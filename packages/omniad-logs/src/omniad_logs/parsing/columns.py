"""Which variable column of a parsed group is really a short list of constants (batch parsing only).

A streaming miner decides at a group's second message whether a differing word is a variable,
with one message of evidence: ``Block 1 stored as bytes`` then ``Block 2 stored as values`` look
exactly like ``registered driver usbfs`` then ``registered driver hub``. Over a whole batch the
column itself tells them apart (Brain, Yu et al. 2023, decides variables by how many distinct
values a column takes in a group): a variable keeps bringing new values, while a column that
takes only two words over many lines, each of them again and again, is two events that share
their other tokens. ``TemplateMiner.parse_batch`` splits such groups after its streaming pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from omniad_logs.parsing.groups import key_head
from omniad_logs.parsing.masking import WILDCARD


def enumerated_column(
    template: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    start: int,
    stop: int,
    max_values: int,
    mask: Callable[[str], str],
) -> tuple[int, dict[str, list[int]]] | None:
    """The column of ``template`` to split its group by, and which rows hold each of its values; or None.

    A column qualifies when the template has a whole variable there (``<*>``, or ``key=<*>``
    with every row carrying that key), every row's token there is a word that the masks leave
    whole (a number or an id is a variable whatever the count), the rows hold at least two and at
    most ``max_values`` distinct tokens there, and each of those on at least two rows (one line
    is no evidence that a value recurs). Of the qualifying columns the one with the fewest
    values wins (the leftmost on ties). Columns before ``start`` route the parse tree and are
    never variable words in a group, so they are not looked at, nor columns from ``stop`` on
    (the unread rest of an overlong message). The keys of the returned
    mapping are the tokens in order of first appearance; the lists are row indices.
    """
    if max_values < 2 or len(rows) < 4:
        return None
    best: tuple[int, dict[str, list[int]]] | None = None
    for j in range(start, min(stop, len(template))):
        slot = template[j]
        if slot != WILDCARD:
            head = key_head(slot)
            if head is None or slot != head + WILDCARD:
                continue
        values: dict[str, list[int]] = {}
        for r, row in enumerate(rows):
            if j >= len(row):
                values = {}
                break
            token = row[j]
            if token not in values:
                if len(values) == max_values or WILDCARD in mask(token):
                    values = {}
                    break
                if slot != WILDCARD and key_head(token) != slot[: -len(WILDCARD)]:
                    values = {}
                    break
                values[token] = []
            values[token].append(r)
        if len(values) < 2 or any(len(v) < 2 for v in values.values()):
            continue
        if best is None or len(values) < len(best[1]):
            best = (j, values)
    return best
