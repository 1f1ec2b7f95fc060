"""The miner on failure shapes seen on logs it was not tuned on, with synthetic lines of each shape.

Each shape merged or split events on held-out loghub systems: keys lost to masking, identifiers
masked in pieces, messages that differ in one event word, and no cap on the number of groups.
The lines here are made up; only the shapes come from those logs.
"""

from __future__ import annotations

import json
import random
import re
import uuid

import pytest

from omniad.errors import ConfigError, DataError
from omniad_logs.parsing import DEFAULT_MASKS, TemplateMiner, masking


def ids_of(miner: TemplateMiner, lines: list[str]) -> list[str]:
    return [miner.add(line).event_id for line in lines]


# ------------------------------------------------------------------ keys are constants
def test_messages_that_differ_only_in_their_keys_are_apart() -> None:
    """``key:value`` / ``key=value``: the key stays, only the value is a variable."""
    rng = random.Random(0)
    extend = [f"onExtend:{rng.randrange(10**12, 10**13)} {rng.randrange(99)} 0 {rng.randrange(9)}" for _ in range(20)]
    steps = ["setTodayTotalDetailSteps=" + "##".join(str(rng.randrange(10**6)) for _ in range(6)) for _ in range(20)]
    lines = [x for pair in zip(extend, steps, strict=True) for x in pair]
    miner = TemplateMiner()
    ids = ids_of(miner, lines)
    assert len(set(ids[0::2])) == 1 and len(set(ids[1::2])) == 1 and ids[0] != ids[1]
    assert miner.templates() == {ids[0]: "onExtend:<*> <*> <*> <*>", ids[1]: "setTodayTotalDetailSteps=<*>"}
    assert miner.add(extend[0]).parameters == tuple(extend[0].removeprefix("onExtend:").split())


def test_the_similarity_step_never_turns_a_key_into_a_variable() -> None:
    # four of five tokens agree, enough for the score alone; the keys differ, so two events
    miner = TemplateMiner()
    a = miner.add("task finished ok status=0 elapsed=12")
    b = miner.add("task finished ok code=3 elapsed=15")
    assert a.event_id != b.event_id
    assert b.template == "task finished ok code=<*> elapsed=<*>" and b.parameters == ("3", "15")
    assert miner.match("task finished ok status=9 elapsed=1").event_id == a.event_id
    # the same key with other values is one event; a word value becomes key=<*>
    c = miner.add("task finished ok status=7 elapsed=3")
    assert c.event_id == a.event_id
    miner.add("login for alice mode=fast")
    d = miner.add("login for alice mode=slow")
    assert d.template == "login for alice mode=<*>" and d.parameters == ("slow",)
    # a key where the template has a plain token is another event too
    assert miner.add("task finished ok 17 elapsed=3").event_id != a.event_id


def test_events_of_variables_only_never_join_across_lengths() -> None:
    miner = TemplateMiner()
    ids = ids_of(miner, ["12 34", "56 78", "1 2 3", "4 5 6"])
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]


@pytest.mark.parametrize(
    ("token", "masked"),
    [
        ("r24=0x00000000", "r24=<*>"),       # "=" always follows a key, digits and all
        ("dbcr0=0x0", "dbcr0=<*>"),
        ("(uid=0)", "(uid=<*>)"),
        ("user=root", "user=root"),          # a word value is left to the similarity step
        ("time:12:30:00", "time:<*>"),
        ("mapResourceRequest:<memory:8192,", "mapResourceRequest:<memory:<*>,"),
        ("node-12:8080", "node-<*>"),        # before ":" a name with an id is a host, not a key
        ("http://host:8080/x?y=1", "<*>"),   # a scheme is no key
        ("C:\\Windows\\System32\\x.dll", "<*>"),
    ],
)
def test_key_value_tokens_mask_the_value_only(token: str, masked: str) -> None:
    assert masking.TokenMasker(masking.compile_masks(DEFAULT_MASKS)).mask(token) == masked


def test_user_masks_mask_values_only_too() -> None:
    miner = TemplateMiner(masks=("number", r"user_[a-z]+"))
    miner.add("login name=user_alice took 12 ms")
    r = miner.add("login name=user_bob took 7 ms")
    assert r.template == "login name=<*> took <*> ms" and r.parameters == ("user_bob", "7")


# ------------------------------------------------------------------ identifiers are one variable
@pytest.mark.parametrize(
    ("token", "masked"),
    [
        ("2f8f5ad9-fe1a-4c3b-b8cc-1e3b0b4d5a6c]", "<*>]"),   # was <*>-fe1a-<*>c<*>b-b8cc-<*>]
        ("ABCDEFAB-abcd-ABCD-abcd-abcdefabcdef", "<*>"),    # a UUID of letters only
        ("3f2a9c01d7e4", "<*>"),
        ("0x1f2e,", "<*>,"),
        ("/var/log/nova/nova-compute.log", "<*>"),
        ("./run_malloc:", "<*>:"),
        ("~/x/y.txt", "<*>"),
        ("C:\\Windows\\winsxs\\amd64_x_6.1.7601.23505_none\\cbscore.dll", "<*>"),
        ("https://api.example.org/v2/servers?id=7", "<*>"),
        ("10.251.42.84:50010", "<*>"),
        ("/10.251.42.84:50010", "/<*>"),
        ("bob.smith@example.com", "<*>"),
        ("<bob@mail.example.org>,", "<<*>>,"),
        ("00:1a:2b:3c:4d:5e", "<*>"),
        ("12ms", "<*>"),
        ("3.5s", "<*>"),
        ("1h30m", "<*>"),
        ("(250us)", "(<*>)"),
        ("1.5GB", "<*>GB"),                                  # sizes keep their unit
        ("Resumed", "Resumed"),
    ],
)
def test_identifiers_are_masked_as_whole_tokens(token: str, masked: str) -> None:
    assert masking.TokenMasker(masking.compile_masks(DEFAULT_MASKS)).mask(token) == masked


def lifecycle(rng: random.Random, instances: int) -> list[str]:
    lines = []
    for _ in range(instances):
        inst = uuid.UUID(int=rng.getrandbits(128))
        lines += [f"[instance: {inst}] VM {verb} (Lifecycle Event)" for verb in ("Started", "Paused", "Resumed", "Stopped")]
        lines += [f"[instance: {inst}] Instance {verb} successfully." for verb in ("spawned", "destroyed")]
        lines.append(f'10.0.0.{rng.randrange(255)} "{rng.choice(["GET", "POST", "DELETE"])} /v2/{inst.hex}/servers" '
                     f"status: 200 len: {rng.randrange(9999)} time: {rng.random():.7f}")
    return lines


def test_messages_that_differ_in_one_event_word_beside_an_id_stay_apart() -> None:
    miner = TemplateMiner()
    ids = ids_of(miner, lifecycle(random.Random(1), 30))
    assert sorted(miner.templates().values()) == sorted([
        *(f"[instance: <*>] VM {verb} (Lifecycle Event)" for verb in ("Started", "Paused", "Resumed", "Stopped")),
        *(f"[instance: <*>] Instance {verb} successfully." for verb in ("spawned", "destroyed")),
        *(f'<*> "{verb} <*>" status: <*> len: <*> time: <*>' for verb in ("GET", "POST", "DELETE")),
    ])
    assert len(set(ids)) == 9


def test_names_of_things_still_vary_within_one_event() -> None:
    miner = TemplateMiner()
    ids = ids_of(miner, ["session opened for user root by (uid=0)", "session opened for user cyrus by (uid=0)",
                         "Invalid user admin from 10.0.0.1", "Invalid user webmaster from 10.0.0.2",
                         "Invalid user test from 10.0.0.3"])
    assert ids[0] == ids[1] and ids[2] == ids[3] == ids[4]
    assert miner.templates()[ids[2]] == "Invalid user <*> from <*>"


def test_a_symbol_token_is_structure_not_a_value() -> None:
    miner = TemplateMiner()
    ids = ids_of(miner, ["Fan speeds ( 3552 3534 3375 3515 )", "Fan speeds ( 3552 3534 **** 3515 )",
                         "Fan speeds ( 3481 3522 3307 3508 )"])
    assert ids[0] == ids[2] != ids[1]
    # brackets with nothing inside are an empty value, which may vary
    both = ids_of(TemplateMiner(), ["connection from 1.2.3.4 (host.example.org) at 10:00", "connection from 1.2.3.5 () at 11:00"])
    assert both[0] == both[1]


# ------------------------------------------------------------------ masks: fast and exact
def random_tokens(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    alphabets = ("aF09x.:/-_@\\JulMs~n5X<*>#=(u", "0123456789abcdefABCDEF-:x=.", "ab01 ¹٣é.:")
    return ["".join(rng.choice(alphabets[i % 3]) for _ in range(rng.randint(0, 24))) for i in range(count)]


def test_builtin_masks_equal_their_alternation() -> None:
    names = [m for m in DEFAULT_MASKS if m != "unit"]
    alternation = re.compile("|".join(f"(?:{masking.BUILTIN_MASKS[n]})" for n in names))
    builtin = masking.compile_masks(DEFAULT_MASKS)
    assert isinstance(builtin, masking.BuiltinMasks)
    for token in random_tokens(5, 30_000):
        assert builtin.sub("<*>", token) == alternation.sub("<*>", token), token


def test_token_shapes_mask_like_each_token_afresh() -> None:
    """The cache of token shapes (digits as one digit) gives exactly what masking each token gives."""
    names = [m for m in DEFAULT_MASKS if m != "unit"]
    shaped = masking.TokenMasker(masking.compile_masks(DEFAULT_MASKS))
    afresh = masking.TokenMasker(masking.MaskUnion([re.compile(f"(?:{masking.BUILTIN_MASKS[n]})") for n in names]))
    rng = random.Random(6)
    ids = [f"blk_{rng.randrange(-10**18, 10**18)}" for _ in range(500)] + [
        f"{rng.randrange(256)}.{rng.randrange(256)}.0.{rng.randrange(256)}:{rng.randrange(65536)}" for _ in range(500)]
    for token in random_tokens(7, 30_000) + ids + [t.replace("1", "0") for t in ids]:
        assert shaped.mask(token) == afresh.mask(token), token
    assert 0 < len(shaped._shapes) < 30_000


# ------------------------------------------------------------------ max_clusters
def shapes(n: int) -> list[str]:
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    return [f"{words[i]} unit stopped after {i} retries" for i in range(n)]


def test_max_clusters_evicts_the_least_recently_used_event() -> None:
    lines = shapes(5)
    unbounded = TemplateMiner()
    ids_of(unbounded, lines)
    assert len(unbounded) == 5 and unbounded.evicted == 0
    miner = TemplateMiner(max_clusters=3)
    first = miner.add(lines[0]).event_id
    miner.add(lines[1])
    miner.add(lines[2])
    assert miner.add(lines[0].replace("0", "9")).event_id == first  # used again: now the most recent
    miner.add(lines[3])  # evicts lines[1]'s event, the least recently used
    miner.add(lines[4])  # evicts lines[2]'s
    assert len(miner) == 3 and miner.evicted == 2
    assert first in miner.templates()
    again = miner.add(lines[1])  # an evicted kind comes back as a new event
    assert again.event_id not in {first} and again.event_id not in unbounded.templates().values()
    assert miner.evicted == 3 and len(miner) == 3
    # the tree shrinks with the groups: only the branches of live groups remain
    assert miner._children == TemplateMiner.from_json(miner.to_json())._children


def test_max_clusters_state_round_trip_continues_identically() -> None:
    rng = random.Random(2)
    kinds = [f"stage {'x ' * k}done in {{}} steps" for k in range(12)]  # 12 events of 12 lengths
    lines = [rng.choice(kinds).format(rng.randrange(99)) for _ in range(300)]
    miner = TemplateMiner(max_clusters=4)
    ids_of(miner, lines[:150])
    assert miner.evicted > 0
    text = miner.to_json()
    state = json.loads(text)
    assert state["version"] == 2 and state["evicted"] == miner.evicted and state["recent"] == list(miner._recent)
    restored = TemplateMiner.from_json(text)
    assert [restored.add(x) for x in lines[150:]] == [miner.add(x) for x in lines[150:]]
    assert restored.to_json() == miner.to_json()


def test_max_clusters_is_validated_and_a_bad_recency_list_is_refused() -> None:
    with pytest.raises(ConfigError, match="max_clusters"):
        TemplateMiner(max_clusters=0)
    miner = TemplateMiner(max_clusters=5)
    ids_of(miner, shapes(3))
    state = json.loads(miner.to_json())
    for recent in (["T1", "T2"], ["T1", "T2", "T9"], ["T1", "T1", "T2"], [1, 2, 3]):
        with pytest.raises(DataError, match="'recent'"):
            TemplateMiner.from_json(json.dumps({**state, "recent": recent}))
    with pytest.raises(DataError, match="'evicted'"):
        TemplateMiner.from_json(json.dumps({**state, "evicted": -1}))
    plain = json.loads(TemplateMiner().to_json())
    with pytest.raises(DataError, match="'recent' must be empty"):
        TemplateMiner.from_json(json.dumps({**plain, "recent": ["T1"]}))


def test_a_version_1_state_still_loads() -> None:
    old = {
        "schema": "omniad-logs/template-miner", "version": 1,
        "params": {"depth": 4, "similarity": 0.73, "max_children": 100,
                   "masks": ["unit", "url", "path", "hex", "date", "number"], "max_tokens": 256},
        "next_id": 3,
        "events": [{"id": "T1", "keys": [["disk", "failed"]]}, {"id": "T2", "keys": [[]]}],
        "clusters": [{"event": "T1", "tokens": ["disk", "<*>", "failed"], "size": 4, "path": [3, "disk", "<*>"]},
                     {"event": "T2", "tokens": ["<*>", "<*>"], "size": 2, "path": [2, "<*>", "<*>"]}],
    }
    miner = TemplateMiner.from_json(json.dumps(old))
    assert miner.add("disk 7 failed").event_id == "T1"
    assert miner.match("1 2 3") is None  # the empty key of version 1 joins nothing
    assert json.loads(miner.to_json())["version"] == 2
    with pytest.raises(DataError, match="schema version 1.0 is not supported"):
        TemplateMiner.from_json(json.dumps({**old, "version": 1.0}))
