"""A parser state or mask list from a file is untrusted: its cost must be bounded, deterministically.

A state with ``params.masks = ["(a+)+$"]`` used to pass validation and then hang on
``add("a" * 32 + "!")`` (Python's backtracking ``re``); a cluster token with many ``<*>`` hung
``match`` (the slot regex backtracked polynomially). User masks now run on RE2 and slots are
read by linear slicing. The hostile cases run in a subprocess with a generous timeout, so a
regression fails the test instead of hanging CI.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from omniad.errors import ConfigError, DataError
from omniad_logs.parsing import DEFAULT_MASKS, TemplateMiner
from omniad_logs.parsing.groups import read_slots
from omniad_logs.parsing.masking import BUILTIN_MASKS, MaskUnion, TokenMasker, compile_masks

SLOT_TOKEN = "<*>a" * 20 + "<*>b"  # 21 slots: the old slot regex backtracked ~60^20 ways on "a" * 60


def hostile_state(masks: list[str]) -> str:
    miner = TemplateMiner()
    miner.add("x y c d e f g h")
    state = json.loads(miner.to_json())
    state["params"]["masks"] = masks
    state["clusters"][0]["tokens"][-1] = SLOT_TOKEN
    return json.dumps(state)


def test_hostile_state_finishes(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text(hostile_state(["(a+)+$", "number"]), encoding="utf-8")
    script = textwrap.dedent(f"""
        from pathlib import Path
        from omniad_logs.parsing import TemplateMiner
        path = Path({str(path)!r})
        miner = TemplateMiner.from_json(path.read_bytes(), source=path)
        print(miner.add("a" * 32 + "!").template)
        print(miner.add("aaaa 12").template)
        print(miner.match("x y c d e f g " + "a" * 60))
    """)
    # ~1 s here (imports); the limit is only there so that a regression fails instead of hanging
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    first, second, third = done.stdout.splitlines()
    assert first == "a" * 32 + "!"  # RE2 takes (a+)+$ and runs it in linear time: no match before "!"
    assert second == "<*> <*>"  # "(a+)+$" masks "aaaa", "number" masks 12
    assert third.startswith("ParseResult(") and SLOT_TOKEN in third  # matched; the token does not fit the slots


@pytest.mark.parametrize(("mask", "why"), [(r"(a)\1", "RE2 cannot run"), (r"(?<=x)y", "RE2 cannot run"),
                                           ("(?:a{1000}){1000}", "RE2 cannot run"), ("x*", "matches the empty string"),
                                           ("[", "not a valid regular expression")])
def test_masks_re2_cannot_take_are_refused_naming_mask_and_file(tmp_path: Path, mask: str, why: str) -> None:
    path = tmp_path / "parser_state.json"
    path.write_text(hostile_state([mask]), encoding="utf-8")
    with pytest.raises(DataError, match=re.escape(f"TemplateMiner.from_json({path})") + rf".*masks\[0\].*{why}"):
        TemplateMiner.from_json(path.read_text(encoding="utf-8"), source=path)
    with pytest.raises(ConfigError, match=rf"masks\[0\] {re.escape(repr(mask))}: .*{why}"):
        TemplateMiner(masks=(mask,))


def test_user_masks_work_and_mix_with_builtins_like_one_alternation() -> None:
    miner = TemplateMiner(masks=("number", r"user_[a-z]+"))
    first = miner.add("login user_alice from 10.0.0.1 took 12 ms")
    second = miner.add("login user_bob from 10.0.0.2 took 7 ms")
    assert first.event_id == second.event_id and second.template == "login <*> from <*> took <*> ms"
    # user rules on RE2 combined with built-ins on re give what one Python alternation gives
    # (on ASCII: RE2's \b, \w, \d are ASCII-only where Python's are Unicode; docs/parsing.md)
    rng = random.Random(0)
    user = (r"[0-9]+", r"ab|b[0-9]", r"\bx")
    alternation = re.compile("|".join(f"(?:{p})" for p in (BUILTIN_MASKS["number"], *user)))
    union = compile_masks(("number", *user))
    assert isinstance(union, MaskUnion)
    for _ in range(5000):
        token = "".join(rng.choice("ab0129.:/-x_ ") for _ in range(rng.randint(0, 14)))
        assert union.sub("<*>", token) == alternation.sub("<*>", token), token


def test_builtin_masks_as_a_union_equal_the_alternation() -> None:
    """The default path keeps one Python regex; the union of the same rules must mask identically."""
    tokens = ["10.0.0.1:80", "blk_-695229", "node42", "ssh2", "0x1f2e", "/var/log/messages.1", "Jul", "(1.21",
              "http://host:8080/x?y=1", "3f2a9c01d7e4", "deadbeefcafe", "R02-M1-N0-C:J12-U11", "2005-06-03-15.42.50"]
    rng = random.Random(1)
    tokens += ["".join(rng.choice("aF09.:/-_xJ") for _ in range(rng.randint(1, 16))) for _ in range(3000)]
    names = [m for m in DEFAULT_MASKS if m != "unit"]
    default = TokenMasker(compile_masks(DEFAULT_MASKS))
    union = TokenMasker(MaskUnion([re.compile(f"(?:{BUILTIN_MASKS[m]})") for m in names]))
    assert [union.mask(t) for t in tokens] == [default.mask(t) for t in tokens]


def test_slots_are_read_like_the_lazy_regex() -> None:
    rng = random.Random(2)
    for _ in range(20000):
        parts = ["".join(rng.choice("ab") for _ in range(rng.randint(0, 2))) for _ in range(rng.randint(3, 5))]
        token = "".join(rng.choice("ab") for _ in range(rng.randint(0, 9)))
        m = re.compile("(.*?)".join(map(re.escape, parts)) + r"\Z", re.DOTALL).match(token)
        assert read_slots(parts, token) == (m.groups() if m else None), (parts, token)
    assert read_slots(("blk_", "_", ""), "blk_12_34") == ("12", "34")


def test_ground_truth_template_with_many_slots_finishes(tmp_path: Path) -> None:
    """A loghub ``_structured.csv`` is a file too: its templates' slots are read by slicing."""
    structured = tmp_path / "X_2k.log_structured.csv"
    structured.write_text(f"Content,EventId,EventTemplate\n{'a' * 100},E1,{SLOT_TOKEN}\nblk_1_2,E2,blk_<*>_<*>\n",
                          encoding="utf-8")
    script = textwrap.dedent(f"""
        from pathlib import Path
        from omniad_logs.datasets.base import ground_truth_events
        events, params, _ = ground_truth_events(["{'a' * 100}", "blk_1_2"], Path({str(structured)!r}), "t", {{}})
        print(events, params)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "['E1', 'E2'] [(), ('1', '2')]"


def test_a_line_that_does_not_fit_its_header_format_finishes(tmp_path: Path) -> None:
    """Log lines are untrusted too: lazy header groups on Python's re took 18 s on 100 words."""
    script = textwrap.dedent("""
        from omniad_logs.parsing import LOG_FORMATS, LogFormat
        fmt = LogFormat(LOG_FORMATS["Linux"])
        print(fmt.parse(" ".join(["x"] * 20_000)), fmt.parse("Jun 14 15:16:01 combo kernel: ok")["Content"])
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "None ok"


def test_header_fields_equal_python_re_and_the_public_re2_api() -> None:
    from omniad_logs.parsing.formats import LOG_FORMATS, LogFormat, _public_fields

    rng = random.Random(3)
    for fmt in LOG_FORMATS.values():
        parsed = LogFormat(fmt)
        python = re.compile(parsed._regex.pattern)  # the same pattern on Python's engine
        for _ in range(300):
            line = "".join(rng.choice(["a", "b", " ", "  ", ":", ": ", "[", "]", "(", ")", "-", "|", "\t", "\u3000",
                                       "é", "1", "sshd[", "\ud800"]) for _ in range(rng.randint(0, 30)))
            m = python.search(line.strip())
            expected = None if m is None else {k: v or "" for k, v in m.groupdict().items()}
            assert parsed.parse(line) == expected, (fmt, line)
            if "\ud800" not in line:  # the wrapper's API reads lone surrogates as U+FFFD
                assert _public_fields(parsed._regex, line.strip()) == expected, (fmt, line)


def test_a_format_re2_cannot_run_is_refused() -> None:
    from omniad_logs.parsing import LogFormat

    with pytest.raises(ConfigError, match=r"LogFormat '\(\?<=x\)<Content>': RE2 cannot run it"):
        LogFormat("(?<=x)<Content>")


def test_a_session_pattern_from_the_config_runs_in_linear_time(tmp_path: Path) -> None:
    """``logs.hdfs``'s session_pattern runs over every line: a custom one runs on RE2."""
    log = tmp_path / "HDFS.log"
    lines = [f"081109 203615 148 INFO dfs.DataNode: Received block blk_{b} of size {b}" for b in range(1, 9)]
    log.write_text("\n".join([*lines, "081109 203615 148 INFO dfs.DataNode: id blk_" + "1" * 60 + " x"]) + "\n")
    (tmp_path / "anomaly_label.csv").write_text(
        "BlockId,Label\n" + "".join(f"blk_{b},{'Anomaly' if b == 8 else 'Normal'}\n" for b in range(1, 9)))
    script = textwrap.dedent(f"""
        import warnings
        warnings.simplefilter("ignore")
        from omniad.errors import DataError
        from omniad.plugins import get_registry
        ds = get_registry().get("dataset", "logs.hdfs")
        for pattern in (r"blk_(\\d+)+_", r"blk_\\d+"):  # the first backtracks 2^60 ways on Python's re
            try:
                print(ds.create({{"path": {str(log)!r}, "session_pattern": pattern}}).load()[0].meta["n_sessions"])
            except DataError:
                print("DataError")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["DataError", "8"]  # no line has "blk_<digits>_": nothing to group


def test_a_session_pattern_re2_cannot_run_is_refused_at_config_time() -> None:
    from omniad.plugins import get_registry

    with pytest.raises(ConfigError, match=r"session_pattern '\(\?<=x\)blk': RE2 cannot run"):
        get_registry().get("dataset", "logs.hdfs").create({"session_pattern": r"(?<=x)blk"})
