"""The template miner, its JSON state and the accuracy functions, on small hand-made cases."""

from __future__ import annotations

import json

import pytest

import omniad_logs
from omniad.errors import ConfigError, DataError
from omniad_logs.parsing import (
    DEFAULT_MASKS,
    LOG_FORMATS,
    SCHEMA_VERSION,
    LogFormat,
    ParseResult,
    TemplateMiner,
    group_messages,
    grouping_accuracy,
    normalize_template,
    parsing_accuracy,
)
from omniad_logs.parsing.masking import MAX_TOKEN_CHARS

LINES = [
    "PacketResponder 1 for block blk_38865049064139660 terminating",
    "Received block blk_-6952295868487656571 of size 67108864 from /10.251.42.84",
    "PacketResponder 0 for block blk_-6952295868487656571 terminating",
    "Received block blk_7128370237687728475 of size 3541 from /10.251.71.16",
    "session opened for user root by (uid=0)",
    "session opened for user cyrus by (uid=0)",
    "connection from 24.54.76.216 (24-54-76-216.bflony.adelphia.net) at Sun Jul 17 15:08:35 2005",
    "connection from 220.117.241.87 () at Mon Jun 20 04:41:49 2005",
    "",
    "   ",
]


# ------------------------------------------------------------------ accuracy, by hand
def test_grouping_accuracy_hand_worked():
    # predicted group 1 = messages {0, 1} = true group A exactly  -> 2 correct
    # predicted group 2 = {2, 3, 4} mixes B, B and C              -> 0 correct
    # GA = 2 / 5
    assert grouping_accuracy(["A", "A", "B", "B", "C"], [1, 1, 2, 2, 2]) == pytest.approx(0.4)
    # true A = {0, 1, 2} is split into {0, 1} and {2}: none of the three is correct; {3} = B -> 1 / 4
    assert grouping_accuracy(["A", "A", "A", "B"], ["x", "x", "y", "z"]) == pytest.approx(0.25)
    # group names do not matter, only who is with whom
    assert grouping_accuracy(["A", "B", "A"], [7, 3, 7]) == 1.0


def test_parsing_accuracy_hand_worked():
    truth = ["a <*> b", "x y", "blk_<*> ok", "took <*> ms", "from <*>:<*>"]
    pred = ["a <*> b", "x <*>", "<*> ok", "took 5 ms", "from <*>"]
    # 1 equal; 2 differs (y vs <*>); 3 equal after normalisation (blk_<*> is one variable token);
    # 4 equal (a digit token is a variable); 5 equal (<*>:<*> collapses to <*>)  -> 4 / 5
    assert parsing_accuracy(truth, pred) == pytest.approx(0.8)


def test_normalize_template_rules():
    assert normalize_template("  a   <*>.<*>.<*>.<*>  b ") == "a <*> b"
    assert normalize_template("user=<*> (uid=42)") == "user=<*> (uid=<*>)"
    assert normalize_template("path /a/<*>/c") == "path /a/<*>/c"


@pytest.mark.parametrize("fn", [grouping_accuracy, parsing_accuracy])
def test_accuracy_rejects_bad_input(fn):
    with pytest.raises(DataError, match="one of each per message"):
        fn(["a", "b"], ["a"])
    with pytest.raises(DataError, match="empty"):
        fn([], [])
    with pytest.raises(DataError, match="sequence"):
        fn("ab", "ab")


# ------------------------------------------------------------------ the miner
def test_groups_and_templates():
    miner = TemplateMiner()
    results = miner.parse_batch(LINES)
    ids = [r.event_id for r in results]
    assert ids[0] == ids[2] and ids[1] == ids[3] and ids[4] == ids[5] and ids[6] == ids[7]
    assert len({ids[0], ids[1], ids[4], ids[6], ids[8]}) == 5
    assert ids[8] == ids[9]  # empty and whitespace-only are one (empty) event
    assert results[0].template == "PacketResponder <*> for block blk_<*> terminating"
    assert results[0].parameters == ("1", "38865049064139660")
    assert results[4].template == "session opened for user <*> by (uid=<*>)"
    assert results[5].parameters == ("cyrus", "0")
    assert results[8].template == "" and results[8].parameters == ()
    assert miner.templates()[ids[0]] == results[0].template
    assert miner.sizes()[ids[0]] == 2 and len(miner) == 5


@pytest.mark.parametrize(
    ("token", "masked"),
    [
        ("10.251.42.84:50010", "<*>"),          # IP:port collapses to one variable
        ("blk_-6952295868487656571", "blk_<*>"),
        ("(HWID=1973)", "(HWID=<*>)"),
        ("node-246", "node-<*>"),
        ("node42", "node<*>"),                 # two or more digits after letters: an id
        ("ssh2", "ssh2"),                      # one digit after letters: a name
        ("0x1f2e", "<*>"),
        ("/var/log/messages.1", "<*>"),
        ("http://host:8080/x?y=1", "<*>"),
        ("Jul", "<*>"),
        ("July", "July"),
        ("1.5GB", "<*>GB"),
        ("deadbeefcafe", "deadbeefcafe"),      # hex-looking but no digit: a word
        ("3f2a9c01d7e4", "<*>"),
        ("terminating", "terminating"),
    ],
)
def test_default_masks(token, masked):
    from omniad_logs.parsing.masking import TokenMasker, compile_masks

    assert TokenMasker(compile_masks(DEFAULT_MASKS)).mask(token) == masked


def test_variable_count_and_units_join_one_event():
    # the same constants with an optional "(x KB)" and a unit-spaced duration: one event
    a = TemplateMiner().parse_batch(["sent 403 bytes (1.21 KB) in 5 ms", "sent 12 bytes in 7 ms"])
    assert a[0].event_id == a[1].event_id
    # without the unit rule the lengths differ in a constant ("KB)"), so they stay apart
    b = TemplateMiner(masks=("number",)).parse_batch(["sent 403 bytes (1.21 KB) in 5 ms", "sent 12 bytes in 7 ms"])
    assert b[0].event_id != b[1].event_id


def test_key_value_keeps_its_key():
    miner = TemplateMiner()
    miner.add("login ok for alice rhost=10.0.0.1 mode=fast")
    result = miner.add("login ok for alice rhost=example.org mode=fast")
    assert result.template == "login ok for alice rhost=<*> mode=fast"
    assert result.parameters == ("example.org",)
    assert miner.match("login ok for alice rhost=10.9.9.9 mode=fast").event_id == result.event_id


def test_streaming_equals_batch():
    stream = TemplateMiner()
    streamed = [stream.add(line) for line in LINES]
    batch = TemplateMiner()
    batched = batch.parse_batch(LINES)
    assert [r.event_id for r in streamed] == [r.event_id for r in batched]
    assert stream.templates() == batch.templates()
    final = batch.templates()
    assert all(r.template == final[r.event_id] for r in batched)
    assert stream.to_json() == batch.to_json()


@pytest.mark.parametrize("masks", [{}, {"masks": ()}], ids=["default-masks", "no-masks"])
def test_batch_shortcuts_change_nothing(masks):
    """parse_batch reuses masked tokens of repeated lines and re-splits lines at the end instead of
    keeping them; on varied lines (repeats, units, keys, leaves that change while the batch runs)
    its groups and final state must be exactly those of ``add`` line by line."""
    import random

    rng = random.Random(3)
    shapes = [
        lambda: f"sent {rng.randrange(9999)} bytes ({rng.randrange(99)}.{rng.randrange(99)} KB) in {rng.randrange(50)} ms",
        lambda: f"user {rng.choice(['alice', 'bob', 'carol'])} logged in from 10.0.{rng.randrange(9)}.{rng.randrange(9)}:22",
        lambda: f"job_{rng.randrange(30)} state={rng.choice(['RUNNING', 'DONE'])} retries:{rng.randrange(3)}",
        lambda: f"disk {rng.choice(['sda', 'sdb'])} {rng.choice(['ok', 'failed', 'degraded'])} after {rng.randrange(9)}s",
        lambda: " ".join(rng.choice(["alpha", "beta", "gamma", "delta", "x1", "42"]) for _ in range(rng.randrange(1, 6))),
    ]
    lines = [rng.choice(shapes)() for _ in range(400)]
    lines += [rng.choice(lines) for _ in range(400)]  # exact repeats, interleaved with new learning below
    lines += [rng.choice(shapes)() for _ in range(200)]
    rng.shuffle(lines)
    live = TemplateMiner(**masks, split_values=0)  # split_values only acts in parse_batch
    streamed = [live.add(line) for line in lines]
    batch = TemplateMiner(**masks, split_values=0)
    batched = batch.parse_batch(lines)
    assert [r.event_id for r in batched] == [r.event_id for r in streamed]
    assert batch.to_json() == live.to_json()
    final = batch.templates()
    assert all(r.template == final[r.event_id] for r in batched)
    assert [r.parameters for r in batched] == [live.match(line).parameters for line in lines]


def varied_lines(seed: int, n: int) -> list[str]:
    """Repeats, unit words, keys, ids and enumerated words, interleaved so leaves change while a batch runs."""
    import random

    rng = random.Random(seed)
    shapes = [
        lambda: f"sent {rng.randrange(9999)} bytes ({rng.randrange(99)}.{rng.randrange(99)} KB) in {rng.randrange(50)} ms",
        lambda: f"user {rng.choice(['alice', 'bob', 'carol'])} logged in from 10.0.{rng.randrange(9)}.{rng.randrange(9)}:22",
        lambda: f"job_{rng.randrange(30)} state={rng.choice(['RUNNING', 'DONE'])} retries:{rng.randrange(3)}",
        lambda: f"Block rdd_{rng.randrange(9)}_{rng.randrange(9)} stored as {rng.choice(['bytes', 'values'])} in memory",
        lambda: f"blk_{rng.randrange(-10**12, 10**12)} served to /10.{rng.randrange(256)}.{rng.randrange(256)}.7:50010",
        lambda: f"{rng.choice(['www.a.com', 'b.org', 'c.net'])}:{rng.choice([80, 443])} close, {rng.randrange(999)} bytes "
                f"({rng.randrange(9)}.{rng.randrange(99)} KB) sent, lifetime {rng.randrange(60):02d}:{rng.randrange(60):02d}",
        lambda: " ".join(rng.choice(["alpha", "beta", "ssh2", "x1", "42", "0x1f", "Mon", "piece0"])
                         for _ in range(rng.randrange(1, 6))),
    ]
    lines = [rng.choice(shapes)() for _ in range(n // 2)]
    lines += [rng.choice(lines) for _ in range(n // 2)]
    rng.shuffle(lines)
    return lines


@pytest.mark.parametrize("kept", [0, 7])
@pytest.mark.parametrize("masks", [{}, {"masks": ()}, {"max_clusters": 5}], ids=["default", "no-masks", "capped"])
def test_batch_kept_splits_change_nothing(monkeypatch, masks, kept):
    """parse_batch keeps the split of (up to ``SPLITS_KEPT``) distinct lines for their parameters
    instead of splitting them again; keeping none, a few or all gives the same results and state."""
    from omniad_logs.parsing import miner as miner_module

    lines = varied_lines(11, 1200)
    every = TemplateMiner(**masks)
    expected = every.parse_batch(lines) + every.parse_batch(lines[:300])
    monkeypatch.setattr(miner_module, "SPLITS_KEPT", kept)
    some = TemplateMiner(**masks)
    assert some.parse_batch(lines) + some.parse_batch(lines[:300]) == expected
    assert some.to_json() == every.to_json()


def test_parse_batch_leaves_the_garbage_collector_as_it_found_it():
    """The batch pauses the cyclic collector while it runs (see ``parse_batch``) and restores its state."""
    import gc

    lines = varied_lines(12, 200)
    assert gc.isenabled()
    TemplateMiner().parse_batch(lines)
    assert gc.isenabled()
    gc.disable()
    try:
        TemplateMiner().parse_batch(lines)
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(DataError):
        TemplateMiner().parse_batch(["ok", 3])
    assert gc.isenabled()


def test_match_prefers_the_exact_template_on_a_tie():
    """``x1 <*> <*>`` (from ``x1 42 42``) fits ``x1 x1 gamma`` as well as that line's own template
    does when only matching; the template with the message's own words must win."""
    miner = TemplateMiner()
    for line in ["x1", "x1 42 42"]:
        miner.add(line)
    own = miner.add("x1 x1 gamma")
    assert miner.match("x1 x1 gamma") == own


def test_match_does_not_learn():
    miner = TemplateMiner()
    learned = miner.add("connected to 10.0.0.1 port 22 as admin")
    before = miner.to_json()
    hit = miner.match("connected to 10.0.0.2 port 23 as admin")
    assert isinstance(hit, ParseResult) and hit.event_id == learned.event_id
    assert hit.parameters == ("10.0.0.2", "23")
    assert miner.match("something never seen before") is None
    assert miner.to_json() == before


def test_result_cache_changes_nothing():
    """The fast path for repeated masked messages must give exactly what the tree search gives."""

    class NoCache(dict):
        def __setitem__(self, key, value):  # never remember: every message goes through the search
            pass

    lines = LINES * 3 + [line.replace("root", "guest").replace("terminating", "done") for line in LINES] + LINES
    searched = TemplateMiner()
    searched._seen = NoCache()
    cached = TemplateMiner()
    assert [cached.add(x) for x in lines] == [searched.add(x) for x in lines]
    assert cached.to_json() == searched.to_json()
    assert len(cached._seen) > 0


@pytest.mark.parametrize("masks", [(), None])
def test_leaf_index_changes_nothing(monkeypatch, masks):
    """Big leaves search only the clusters that can reach the threshold; the answer must not change."""
    import random

    from omniad_logs.parsing import groups as groups_module

    rng = random.Random(0)
    words = ["".join(rng.choice("abcdefgh") for _ in range(4)) for _ in range(40)]
    lines = [
        f"task run {rng.choice(words)} {rng.randrange(40)} on node{rng.randrange(9)} as {rng.choice(words)} "
        f"in {rng.randrange(99)} ms {rng.choice(words)}"
        for _ in range(1500)
    ]
    kwargs = {} if masks is None else {"masks": masks}
    indexed = TemplateMiner(**kwargs)
    first = [indexed.add(x) for x in lines]
    assert any(leaf.index is not None for leaf in indexed._leaves.values())
    monkeypatch.setattr(groups_module, "INDEX_FROM", 10**9)
    scanned = TemplateMiner(**kwargs)
    assert [scanned.add(x) for x in lines] == first
    assert all(leaf.index is None for leaf in scanned._leaves.values())
    assert scanned.to_json() == indexed.to_json()


def test_group_messages_one_call():
    assert omniad_logs.group_messages(["disk 1 failed", "disk 2 failed", "fan ok"]) == [0, 0, 1]
    assert group_messages([]) == []
    with pytest.raises(DataError, match="sequence of message strings"):
        group_messages("disk 1 failed")


# ------------------------------------------------------------------ bad input
def test_non_str_messages_fail_clearly():
    miner = TemplateMiner()
    with pytest.raises(DataError, match="must be a str, got int"):
        miner.add(5)
    with pytest.raises(DataError, match=r"message #1: a message must be a str, got bytes"):
        miner.parse_batch(["ok", b"raw bytes"])
    assert len(miner) == 0  # a bad batch teaches nothing
    with pytest.raises(DataError, match="not one string|list of message strings"):
        miner.parse_batch("one string")
    with pytest.raises(DataError, match="got NoneType"):
        group_messages([None])


class _RegexSpy:
    """Stands in for the masker's regex: records the length of every string it is run on, and
    fails at once on one longer than MAX_TOKEN_CHARS (rather than running the masks on it)."""

    def __init__(self, regex):
        self.regex = regex
        self.lengths: list[int] = []

    def sub(self, repl, text):
        self.lengths.append(len(text))
        assert len(text) <= MAX_TOKEN_CHARS, f"the masks ran on a {len(text):,}-character token"
        return self.regex.sub(repl, text)


def test_huge_line_is_capped():
    miner = TemplateMiner()
    spy = miner._masker._regex = _RegexSpy(miner._masker._regex)
    # ("<start>" is a token the regex runs on: words and numbers are answered without it)
    line = "<start> " + "x" * 5_000_000 + " " + " ".join(str(i) for i in range(800_000))
    assert len(line) > 10_000_000
    result = miner.add(line)
    # the cost is bounded by what the masks run on (checked here, not with a wall clock that a
    # busy machine breaks): at most max_tokens tokens, none longer than MAX_TOKEN_CHARS
    assert 0 < len(spy.lengths) <= miner.params.max_tokens
    tokens = result.template.split(" ")
    assert len(tokens) == miner.params.max_tokens + 1  # max_tokens read, the rest is one variable
    assert tokens[0] == "<start>" and tokens[1] == "<*>" and tokens[-1] == "<*>"
    assert len(miner.to_json()) < 10_000
    plain = TemplateMiner(masks=()).add("a " + "y" * 2_000_000 + " b")  # no masks: a blob is still a variable
    assert plain.template == "a <*> b"


def test_unicode_messages():
    miner = TemplateMiner()
    a = miner.add("用户 登录 成功 alice 耗时 12 ms 完成")
    b = miner.add("用户 登录 成功 bob 耗时 7 ms 完成")
    assert a.event_id == b.event_id
    assert b.template == "用户 登录 成功 <*> 耗时 <*> 完成"
    assert b.parameters == ("bob", "7 ms")
    again = TemplateMiner.from_json(miner.to_json())
    assert again.templates() == miner.templates()


def test_settings_are_validated():
    with pytest.raises(ConfigError, match="similarity"):
        TemplateMiner(similarity=2.0)
    with pytest.raises(ConfigError, match="unknown parameter 'simlarity'"):
        TemplateMiner(simlarity=0.5)
    with pytest.raises(ConfigError, match=r"masks\[0\].*not a valid regular expression"):
        TemplateMiner(masks=("[",))
    assert TemplateMiner({"similarity": 0.5}, depth=5).params.depth == 5


# ------------------------------------------------------------------ state
def test_json_round_trip_continues_identically():
    first, rest = LINES[:5], LINES[5:] * 2
    miner = TemplateMiner(similarity=0.6)
    for line in first:
        miner.add(line)
    text = miner.to_json()
    state = json.loads(text)
    assert state["version"] == SCHEMA_VERSION and state["params"]["similarity"] == 0.6
    restored = TemplateMiner.from_json(text)
    assert restored.params == miner.params
    assert TemplateMiner.from_json(text.encode("utf-8")).to_json() == text  # bytes, as read from a file
    assert [restored.add(x) for x in rest] == [miner.add(x) for x in rest]
    assert restored.to_json() == miner.to_json()


def test_state_schema_version_and_corruption_are_rejected():
    miner = TemplateMiner()
    miner.parse_batch(LINES)
    state = json.loads(miner.to_json())
    with pytest.raises(DataError, match="schema version 99 is not supported"):
        TemplateMiner.from_json(json.dumps({**state, "version": 99}))
    with pytest.raises(DataError, match="not a template-miner state"):
        TemplateMiner.from_json(json.dumps({**state, "schema": "drain3"}))
    with pytest.raises(DataError, match="not valid JSON"):
        TemplateMiner.from_json(miner.to_json()[:-7])
    broken = json.loads(miner.to_json())
    broken["clusters"][0]["size"] = "12"
    with pytest.raises(DataError, match=r"clusters\[0\].size must be an integer"):
        TemplateMiner.from_json(json.dumps(broken))
    broken = json.loads(miner.to_json())
    broken["clusters"][0]["event"] = "T999"
    with pytest.raises(DataError, match="names no entry of 'events'"):
        TemplateMiner.from_json(json.dumps(broken))
    with pytest.raises(DataError, match="unknown parameter"):
        TemplateMiner.from_json(json.dumps({**state, "params": {"depth": 4, "evil": 1}}))


def test_state_file_cannot_run_code(tmp_path):
    """drain3 loads jsonpickle, where ``py/reduce`` calls any callable; here such a payload is refused or inert."""
    marker = tmp_path / "pwned"
    payload = {"py/reduce": [{"py/function": "builtins.exec"},
                             {"py/tuple": [f"open({str(marker)!r}, 'w').write('x')"]}]}
    miner = TemplateMiner()
    miner.parse_batch(LINES[:2])
    state = json.loads(miner.to_json())
    for where in ("params", "events", "clusters"):
        evil = {**state, where: payload}
        with pytest.raises(DataError):
            TemplateMiner.from_json(json.dumps(evil))
    evil = json.loads(miner.to_json())
    evil["clusters"][0]["tokens"][0] = payload
    with pytest.raises(DataError, match="list of strings"):
        TemplateMiner.from_json(json.dumps(evil))
    # as a string, the same text is only data: it loads as a template token and stays text
    inert = json.loads(miner.to_json())
    inert["clusters"][0]["tokens"][0] = json.dumps(payload)
    restored = TemplateMiner.from_json(json.dumps(inert))
    assert json.dumps(payload) in next(iter(restored.templates().values()))
    assert not marker.exists()


# ------------------------------------------------------------------ header formats
def test_log_format_fields_and_errors():
    fmt = LogFormat(LOG_FORMATS["Linux"])
    fields = fmt.parse("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown  ")
    assert fields is not None and fields["Content"] == "check pass; user unknown"
    assert fields["Component"] == "sshd(pam_unix)" and fields["PID"] == "19939"
    assert fmt.parse("not a linux line") is None
    assert LogFormat(LOG_FORMATS["Linux"]).parse("Jun 14 15:16:01 combo kernel: hello")["PID"] == ""
    with pytest.raises(ConfigError, match="no <Content> field"):
        LogFormat("<Date> <Time>")
    with pytest.raises(ConfigError, match="appears twice"):
        LogFormat("<Date> <Date> <Content>")
    with pytest.raises(DataError, match="must be a str"):
        fmt.parse(b"bytes")
    assert len(LOG_FORMATS) == 16


def test_repeat_shortcut_follows_a_route_the_tree_gained():
    """A message first routed through ``<*>`` (its first word was new beside a digit-bearing one)
    gets its own branch once a later group founds one: the remembered route must not outlive
    that, or the live miner and one restored from its JSON would part ways (T1 vs T3 before)."""
    lines = ["a1 x y z", "foo x y z", "foo p q r", "foo x y z"]
    live = TemplateMiner()
    ids = [live.add(line).event_id for line in lines]
    saved = TemplateMiner()
    for line in lines[:3]:
        saved.add(line)
    restored = TemplateMiner.from_json(saved.to_json())
    assert ids[3] == restored.add(lines[3]).event_id
    batch = TemplateMiner().parse_batch(lines)
    fresh = TemplateMiner()
    for line in lines[:3]:
        fresh.add(line)
    assert batch[3].event_id == TemplateMiner.from_json(fresh.to_json()).add(lines[3]).event_id
