"""Batch parsing splits a group by a column that takes only a few recurring words (``split_values``).

A stream decides at a group's second line whether a differing word is a variable; a batch sees
the whole column. The lines here are made up: two events that share every token but one word
and alternate from their first lines (as loghub's Spark ``stored as bytes`` / ``stored as values``
do), key values that are two recurring names, and the variables that must stay variables (names
that keep coming, numbers, a word seen once).
"""

from __future__ import annotations

import random
import re

import pytest

from omniad.errors import ConfigError
from omniad_logs.parsing import TemplateMiner, group_messages
from omniad_logs.parsing.columns import enumerated_column
from omniad_logs.parsing.masking import WILDCARD


def stored(rng: random.Random, n: int) -> list[str]:
    """``Block rdd_<n> stored as bytes|values ...``, alternating from the first two lines on, then at random."""
    out = []
    for i in range(n):
        kind = ("bytes", "values")[i % 2] if i < 6 else rng.choice(("bytes", "bytes", "values"))
        out.append(f"Block rdd_{rng.randrange(99)}_{rng.randrange(99)} stored as {kind} in memory "
                   f"(estimated size {rng.randrange(1, 900)}.{rng.randrange(10)} KB, free {rng.randrange(100, 999)}.1 MB)")
    return out


def test_a_column_of_two_recurring_words_is_two_events_in_a_batch() -> None:
    lines = stored(random.Random(0), 40)
    kinds = [line.split()[4] for line in lines]
    # live, the second line already decides: one event with a <*> where the words differ
    live = TemplateMiner()
    assert len({live.add(line).event_id for line in lines}) == 1
    miner = TemplateMiner()
    results = miner.parse_batch(lines)
    by_kind = {k: {r.event_id for r, kk in zip(results, kinds, strict=True) if kk == k} for k in ("bytes", "values")}
    assert all(len(ids) == 1 for ids in by_kind.values()) and by_kind["bytes"] != by_kind["values"]
    templates = {r.template for r in results}
    assert templates == {f"Block rdd_<*> stored as {k} in memory (estimated size <*>, free <*>)"
                         for k in ("bytes", "values")}
    # the parameters are read from each part's own template: the word is no parameter any more
    for line, r in zip(lines, results, strict=True):
        m = re.fullmatch(r"Block rdd_(\d+_\d+) stored as \w+ in memory \(estimated size (.+), free (.+)\)", line)
        assert m is not None and r.parameters == m.groups()
    assert group_messages(lines) == [0 if k == kinds[0] else 1 for k in kinds]


def test_the_largest_part_keeps_the_event_id_and_every_part_continues_live() -> None:
    lines = stored(random.Random(1), 60)
    miner = TemplateMiner()
    results = miner.parse_batch(lines)
    first = TemplateMiner(split_values=0).parse_batch(lines)[0].event_id
    counts = {}
    for r in results:
        counts[r.event_id] = counts.get(r.event_id, 0) + 1
    assert max(counts, key=counts.get) == first  # the largest part kept the group's id
    assert sum(miner.sizes().values()) == len(lines)
    assert miner.sizes() == counts
    # later lines of each part get that part's id, live and by lookup, also from a saved state
    restored = TemplateMiner.from_json(miner.to_json())
    more = stored(random.Random(2), 30)
    expected = [results[0].event_id if line.split()[4] == lines[0].split()[4] else
                next(r.event_id for r, x in zip(results, lines, strict=True) if x.split()[4] != lines[0].split()[4])
                for line in more]
    assert [miner.match(line).event_id for line in more] == expected
    assert [miner.add(line).event_id for line in more] == expected
    assert [restored.add(line).event_id for line in more] == expected
    assert restored.to_json() == miner.to_json()
    # a third word later joins one part as a variable there, and the other part keeps its own
    third = miner.add(lines[0].replace(f" {lines[0].split()[4]} ", " tuples "))
    assert third.event_id in counts and " <*> in memory" in third.template


def test_key_values_that_are_two_recurring_names_split_the_key_stays() -> None:
    rng = random.Random(3)
    users = ["root"] * 30 + ["test"] * 4
    rng.shuffle(users)
    lines = [f"authentication failure; uid=0 tty=ssh rhost=10.{rng.randrange(256)}.{rng.randrange(256)}.1 user={u}"
             for u in users]
    results = TemplateMiner().parse_batch(lines)
    assert {r.template for r in results} == {f"authentication failure; uid=<*> tty=ssh rhost=<*> user={u}"
                                             for u in ("root", "test")}
    assert len({r.event_id for r in results}) == 2


def test_variables_stay_variables() -> None:
    """Names that keep coming, a second word seen on one line only, numbers: one event each."""
    rng = random.Random(4)
    names = ["root"] * 40 + ["uucp", "uucp", "ftp", "ftp", "git", "git", "mysql", "mysql"]
    rng.shuffle(names)
    many = [f"Failed password for {u} from 10.0.0.{rng.randrange(99)} port {rng.randrange(1024, 65535)} ssh2"
            for u in names]
    once = [f"Accepted publickey for {'admin' if i == 7 else 'deploy'} from 10.1.0.{i} port 22 ssh2" for i in range(20)]
    numbers = [f"worker {rng.choice((3, 7))} finished job {rng.choice((10, 20))}" for _ in range(20)]
    results = TemplateMiner().parse_batch(many + once + numbers)
    ids = [r.event_id for r in results]
    assert len(set(ids[:48])) == 1 and len(set(ids[48:68])) == 1 and len(set(ids[68:])) == 1
    assert len(set(ids)) == 3


def test_two_enumerated_columns_split_in_turn() -> None:
    rng = random.Random(5)
    combos = [(a, b) for a in ("read", "write") for b in ("disk", "tape") for _ in range(5)]
    rng.shuffle(combos)
    lines = [f"op {rng.randrange(999)} {a} finished on {b} after {rng.randrange(99)} ms" for a, b in combos]
    results = TemplateMiner().parse_batch(lines)
    assert len({r.event_id for r in results}) == 4
    for (a, b), r in zip(combos, results, strict=True):
        assert r.template == f"op <*> {a} finished on {b} after <*>"


def test_groups_from_an_earlier_batch_are_not_split_by_a_later_one() -> None:
    """A group made before holds lines this batch never saw, so its column is not known in full."""
    rng = random.Random(6)
    names = [f"user{c}" for c in "abcdefgh"]
    miner = TemplateMiner()
    first = miner.parse_batch([f"pam_unix session closed for user {rng.choice(names)} by uid {i}" for i in range(20)])
    assert len({r.event_id for r in first}) == 1
    later = miner.parse_batch([f"pam_unix session closed for user {('alice', 'bob')[i % 2]} by uid {i}" for i in range(20)])
    assert {r.event_id for r in later} == {first[0].event_id}


def test_split_values_setting() -> None:
    lines = stored(random.Random(7), 30)
    plain = TemplateMiner(split_values=0)
    live = TemplateMiner()
    assert [r.event_id for r in plain.parse_batch(lines)] == [live.add(line).event_id for line in lines]
    with pytest.raises(ConfigError, match="split_values"):
        TemplateMiner(split_values=1)
    with pytest.raises(ConfigError, match="split_values"):
        TemplateMiner(split_values=-1)


def test_split_respects_max_clusters() -> None:
    rng = random.Random(8)
    lines = stored(rng, 30) + [f"fan {i} ok speed {rng.randrange(9999)}" for i in range(10)]
    miner = TemplateMiner(max_clusters=2)
    results = miner.parse_batch(lines)
    assert len(miner) <= 2 and len({r.event_id for r in results[:30]}) == 2
    assert miner.evicted >= 1
    TemplateMiner.from_json(miner.to_json())  # the recency list still names every event


# ------------------------------------------------------------------ the column rule itself, hand-worked
def rows(*lines: str) -> list[list[str]]:
    return [line.split() for line in lines]


def test_enumerated_column_hand_worked() -> None:
    template = ["a", WILDCARD, "b", WILDCARD, "k=" + WILDCARD]
    same = {"start": 1, "stop": 256, "max_values": 2, "mask": lambda t: re.sub(r"\d+", WILDCARD, t)}
    # column 1 has three words; columns 3 and 4 two recurring ones each: the leftmost of the fewest wins
    got = enumerated_column(template, rows("a x b p k=v", "a y b q k=u", "a z b p k=u", "a x b q k=v",
                                           "a y b p k=v"), **same)
    assert got == (3, {"p": [0, 2, 4], "q": [1, 3]})
    got = enumerated_column(template, rows("a x b p k=v", "a y b q k=u", "a z b p k=u", "a x b q k=v",
                                           "a y b p k=w", "a x b q k=w"), **same)
    assert got == (3, {"p": [0, 2, 4], "q": [1, 3, 5]})
    # a value on one line only is no evidence; numbers are masked variables; fewer than four rows: nothing
    assert enumerated_column(template, rows("a x b p k=1", "a y b p k=2", "a z b p k=3", "a w b q k=4"), **same) is None
    assert enumerated_column(template, rows("a 1 b 2 k=1", "a 2 b 1 k=2", "a 1 b 2 k=1", "a 2 b 1 k=2"), **same) is None
    assert enumerated_column(template, rows("a x b p k=v", "a y b q k=u", "a z b p k=u"), **same) is None
    # a key column: every value carries the key, the key stays in the value
    got = enumerated_column(["a", "k=" + WILDCARD], rows("a k=u", "a k=v", "a k=u", "a k=v"), **same)
    assert got == (1, {"k=u": [0, 2], "k=v": [1, 3]})
    assert enumerated_column(["a", "k=" + WILDCARD], rows("a k=u", "a j=v", "a k=u", "a j=v"), **same) is None
    # columns before start and from stop on are not looked at
    four = rows("a x b p k=v", "a y b q k=u", "a x b p k=u", "a y b q k=v")
    assert enumerated_column(template, four, **same)[0] == 1
    assert enumerated_column(template, four, **{**same, "start": 4})[0] == 4
    assert enumerated_column(template, four, **{**same, "stop": 1}) is None
    # max_values: three recurring words qualify only when allowed
    three = rows("a x b p k=1", "a y b p k=2", "a z b p k=3", "a x b p k=4", "a y b p k=5", "a z b p k=6")
    assert enumerated_column(template, three, **same) is None
    assert enumerated_column(template, three, **{**same, "max_values": 3})[0] == 1


def test_raw_rows_with_a_mask_read_like_masked_rows():
    """``parse_batch`` hands ``enumerated_column`` some rows raw with the masker as ``mask`` (lines whose
    unit words joined their numbers) and the others masked already; the answer must be what masked
    rows with ``mask=str`` give, on words, numbers, ids, keys, joined units and literal ``<*>``."""
    miner = TemplateMiner()
    mask = miner._masker.lookup
    rng = random.Random(4)
    words = ["bytes", "values", "Mon", "ssh2", "piece0", "12", "0x1f", "1.5 KB", "Mon KB", "node-3:80", "a<*>b",
             "<*>", "rhost=abc", "rhost=10.0.0.1", "uid=0", "id:7", "state=DONE", "state=RUNNING", "blk_-12", "e"]
    for _ in range(3000):
        width = rng.randrange(3, 6)
        template = [rng.choice(["<*>", "<*>", "rhost=<*>", "state=<*>", "word"]) for _ in range(width)]
        pool = [rng.sample(words, rng.randrange(1, 5)) for _ in range(width)]
        raw = [[rng.choice(pool[j]) for j in range(width)] for _ in range(rng.randrange(4, 12))]
        masked = [[mask(t) for t in row] for row in raw]
        mixed = [r if rng.random() < 0.5 else m for r, m in zip(raw, masked)]
        for most in (2, 3):
            expected = enumerated_column(template, masked, start=1, stop=width, max_values=most, mask=str)
            assert enumerated_column(template, raw, start=1, stop=width, max_values=most, mask=mask) == expected
            assert enumerated_column(template, mixed, start=1, stop=width, max_values=most, mask=mask) == expected
