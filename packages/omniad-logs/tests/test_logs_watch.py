"""``omniad watch`` on a live log: a writer process appends lines while the watcher follows them.

The log is a small HDFS-like system made here: sessions ``sess_N`` of four steps, a few
background lines, and injected anomalies of two kinds: a burst (a step that comes once repeated 15 times,
which a count-vector model sees when the session closes) and lines of an error template the
model never saw (alerted on its first line). The checks: which sessions and lines are
alerted, how many, a clean exit, scores equal to ``omniad score`` on the same lines, and a
watcher killed with SIGKILL mid-stream that, restarted, writes exactly the alerts of an
uninterrupted run (none lost, none repeated).
"""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import omniad
from omniad.errors import ConfigError
from omniad.testing.watch import append_process, kill_after_checkpoint, read_records, watch_process
from omniad.watch import watch
from omniad.watch.follow import Follower, Line

SESSION = r"sess_\d+"
BURSTS = {7, 23, 41}  # session numbers given a burst in the live log
ERRORS = {15, 33}  # session numbers given an unseen error line
N_LIVE = 60


def _quiet(_: str) -> None:
    pass


def session_lines(n: int, rng: np.random.Generator, *, burst: bool = False, error: bool = False) -> list[str]:
    sid = f"sess_{n:05d}"
    ip = f"10.0.{rng.integers(0, 9)}.{rng.integers(1, 250)}"
    lines = [f"Receiving block {sid} src: /{ip}:{rng.integers(1000, 9999)} dest: /10.1.0.1:50010"]
    lines += [f"Received block {sid} of size {rng.integers(1000, 90000)} from /{ip}"
              for _ in range(int(rng.integers(1, 3)))]
    if error:
        lines.append(f"Checksum mismatch in block {sid} replica {rng.integers(1, 4)} marked corrupt")
    lines += [f"PacketResponder {rng.integers(0, 3)} for block {sid} terminating" for _ in range(15 if burst else 1)]
    lines.append(f"Deleting block {sid} file /data/dfs/blk_{rng.integers(10**6, 10**7)}")
    return lines


def write_log(path: Path, n_sessions: int, seed: int, *, bursts: set[int] = frozenset(),
              errors: set[int] = frozenset(), start: int = 0) -> list[str]:
    """Sessions interleaved three at a time, with a heartbeat line now and then; returns the lines."""
    rng = np.random.default_rng(seed)
    pending = [session_lines(start + i, rng, burst=i in bursts, error=i in errors) for i in range(n_sessions)]
    out: list[str] = []
    active: list[list[str]] = []
    t = 1_700_000_000
    while pending or active:
        while len(active) < 3 and pending:
            active.append(pending.pop(0))
        k = int(rng.integers(0, len(active)))
        content = active[k].pop(0)
        if not active[k]:
            active.pop(k)
        if rng.random() < 0.05:
            out.append(f"081109 {time.strftime('%H%M%S', time.gmtime(t))} 19 INFO dfs.DataNode: heartbeat ok")
        out.append(f"081109 {time.strftime('%H%M%S', time.gmtime(t))} {rng.integers(10, 99)} INFO "
                   f"dfs.DataNode$PacketResponder: {content}")
        t += 1
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("watch")
    write_log(d / "fit.log", 300, seed=1)
    live = write_log(d / "live_full.log", N_LIVE, seed=2, bursts=BURSTS, errors=ERRORS, start=1000)
    assert len(live) > 250
    model = omniad.fit("logs.pca", d / "fit.log", source_params={"session_pattern": SESSION}, say=_quiet)
    model.save(d / "pca")
    return d


def _key(r: dict[str, Any]) -> tuple[Any, ...]:
    """What an alert says, without when it was made."""
    return (r["kind"], r.get("session"), r.get("line"), r.get("event"), round(float(r["score"]), 6)
            if isinstance(r["score"], float) else r["score"])


def _watch_cli(work: Path, source: Path, alerts: Path, *extra: str) -> subprocess.Popen[str]:
    return watch_process(work / "pca", source, alerts, *extra)


def test_watch_follows_a_written_log_and_alerts_the_injected_anomalies(work: Path, tmp_path: Path) -> None:
    n = len((work / "live_full.log").read_text().splitlines())
    target = tmp_path / "service.log"
    target.touch()
    alerts = tmp_path / "alerts.jsonl"
    watcher = _watch_cli(work, target, alerts, "--max-lines", str(n), "--set", "idle_lines=40")
    writer = append_process(work / "live_full.log", target, rate=400)
    assert writer.wait(timeout=300) == 0
    _, err = watcher.communicate(timeout=300)
    assert watcher.returncode == 0, err
    assert "stopped (max-lines)" in err and "watching" in err
    records = read_records(alerts)
    sessions = Counter(r["session"] for r in records if r["kind"] == "session")
    injected = {f"sess_{1000 + i:05d}" for i in BURSTS | ERRORS}
    bursts = {f"sess_{1000 + i:05d}" for i in BURSTS}
    assert bursts <= set(sessions), f"bursts not alerted: {bursts - set(sessions)}"
    assert all(c == 1 for c in sessions.values()), sessions  # each session alerted once
    false = set(sessions) - injected
    assert len(false) <= 3, f"{len(false)} normal sessions alerted: {sorted(false)}"
    new = [r for r in records if r["kind"] == "new_template"]
    assert len(new) == 1  # one unseen template, alerted on its first line only
    assert "Checksum mismatch" in new[0]["raw"] and new[0]["session"] is None
    assert new[0]["line"] == next(i for i, text in enumerate(target.read_text().splitlines(), 1)
                                  if "Checksum mismatch" in text)
    burst = next(r for r in records if r["kind"] == "session" and r["session"] in bursts)
    assert burst["n_lines"] >= 17 and burst["threshold"] < burst["score"]
    assert any("PacketResponder" in ln["raw"] for ln in burst["lines"])


def test_killed_watcher_resumes_without_losing_or_repeating_alerts(work: Path, tmp_path: Path) -> None:
    full = work / "live_full.log"
    n = len(full.read_text().splitlines())
    # the reference: one uninterrupted run over the whole file
    ref_alerts = tmp_path / "ref.jsonl"
    ref = _watch_cli(work, full, ref_alerts, "--max-lines", str(n), "--set", "idle_lines=40")
    assert ref.wait(timeout=300) == 0
    reference = Counter(_key(r) for r in read_records(ref_alerts))
    assert sum(1 for k in reference if k[0] == "session") >= len(BURSTS)

    target = tmp_path / "service.log"
    target.touch()
    alerts = tmp_path / "alerts.jsonl"
    checkpoint = Path(str(alerts) + ".checkpoint")
    go_on = tmp_path / "go-on"  # the writer holds after 120 lines until the kill: the stream is never over by then
    writer = append_process(full, target, rate=60, hold_after=120, go_on=go_on)
    first = _watch_cli(work, target, alerts, "--max-lines", str(n), "--set", "idle_lines=40",
                       "--checkpoint-every", "0.05")
    lines_at_kill = kill_after_checkpoint(first, checkpoint, at_least=60)  # some, not all, of the stream
    go_on.touch()
    assert 60 <= lines_at_kill < n, lines_at_kill
    assert writer.wait(timeout=300) == 0
    second = _watch_cli(work, target, alerts, "--max-lines", str(n), "--set", "idle_lines=40")
    _, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert "resuming from checkpoint" in err
    resumed = Counter(_key(r) for r in read_records(alerts))
    assert resumed == reference, (resumed - reference, reference - resumed)


def test_watched_session_scores_equal_omniad_score(work: Path, tmp_path: Path) -> None:
    alerts = tmp_path / "every.jsonl"
    n = len((work / "live_full.log").read_text().splitlines())
    summary = watch(work / "pca", str(work / "live_full.log"), alerts=alerts, every=True, start="begin", until="5m", max_lines=n,
                    options={"idle_lines": 10**6}, say=_quiet)
    assert summary.lines == n and summary.stopped_by == "max-lines"
    live = {r["session"]: r["score"] for r in read_records(alerts) if r["kind"] == "session"}
    batch = omniad.score(work / "pca", work / "live_full.log", say=_quiet)
    rows = {r["sample"]: r["score"] for r in batch.samples.rows()}
    assert set(live) == set(rows)
    assert max(abs(live[k] - rows[k]) for k in rows) < 1e-9


class _Lines(Follower):
    """Lines from a list (the watch API with a follower of one's own)."""

    def __init__(self, texts: list[str]) -> None:
        super().__init__()
        self.lines = [Line(t, "mem", i, time.time()) for i, t in enumerate(texts, 1)]

    def describe(self) -> str:
        return "memory"

    def poll(self, limit: int) -> list[Line]:
        out, self.lines = self.lines[:limit], self.lines[limit:]
        self.exhausted = not self.lines
        return out


def test_caps_bound_sessions_and_templates_and_are_counted(work: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    texts = []
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    for i in range(400):  # every line a template of its own: words of letters only, so nothing is masked
        words = ["".join(rng.choice(letters, 7)) for _ in range(4)]
        texts.append(f"081109 120000 19 INFO dfs.X: {' '.join(words)} in block sess_{i:05d}")
    summary = watch(work / "pca", "-", alerts=tmp_path / "a.jsonl", options={"max_templates": 30, "max_sessions": 50},
                    follower=_Lines(texts), say=_quiet)
    assert summary.stopped_by == "end of input" and summary.lines == 400
    assert summary.status["templates"] <= 30
    assert summary.status["templates_evicted"] > 300
    assert summary.status["sessions_closed_at_cap"] >= 300


def test_bad_input_is_counted_and_the_watch_goes_on(work: Path, tmp_path: Path) -> None:
    log = tmp_path / "bad.log"
    good = (work / "live_full.log").read_text().splitlines()[:100]
    with log.open("wb") as f:
        f.write(("\n".join(good[:50]) + "\n").encode())
        f.write(b"\x00\x01\x02garbage\xff\xfe\n")
        f.write(b"x" * (3 << 20) + b"\n")  # a 3 MB line
        f.write(("\n".join(good[50:]) + "\n").encode())
    summary = watch(work / "pca", str(log), alerts=tmp_path / "a.jsonl", start="begin", until="5m", max_lines=101, say=_quiet)
    assert summary.counts.get("binary_lines") == 1
    assert summary.counts.get("long_lines_cut") == 1
    assert summary.lines == 101  # the 100 good lines and the cut one


def test_a_model_without_a_parser_or_thresholds_is_refused_with_how_to_fix(work: Path, tmp_path: Path) -> None:
    bare = omniad.fit("logs.pca", work / "fit.log", source_params={"session_pattern": SESSION}, say=_quiet)
    bare.thresholds_ = {}
    bare.save(tmp_path / "bare")
    live = str(work / "live_full.log")
    with pytest.raises(ConfigError, match="no sample threshold"):
        watch(tmp_path / "bare", live, max_lines=10, say=_quiet)
    with pytest.raises(ConfigError, match="max_templates"):
        watch(work / "pca", live, options={"max_templates": 5}, max_lines=10, say=_quiet)
    with pytest.raises(ConfigError, match="max_sesions"):  # a misspelt option is named, not ignored
        watch(work / "pca", live, options={"max_sesions": 5}, max_lines=10, say=_quiet)


def test_next_event_models_score_each_line_as_it_arrives_as_omniad_score_does(work: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    model = omniad.fit("logs.deeplog", work / "fit.log", params={"epochs": 3, "window": 4},
                       source_params={"session_pattern": SESSION}, say=_quiet)
    model.save(tmp_path / "deeplog")
    alerts = tmp_path / "every.jsonl"
    n = len((work / "live_full.log").read_text().splitlines())
    watch(tmp_path / "deeplog", str(work / "live_full.log"), alerts=alerts, every=True, start="begin", until="5m", max_lines=n,
          options={"idle_lines": 10**6}, say=_quiet)
    live = {(r["session"], r["line"]): r["score"] for r in read_records(alerts) if r["kind"] == "line"}
    batch = omniad.score(tmp_path / "deeplog", work / "live_full.log", say=_quiet)
    rows = {(r["sample"], r["line"]): r["score"] for r in batch.elements.rows()}
    assert set(live) == set(rows) and len(rows) > 200
    # the END window is merged into a session's last line in `omniad score`; live, it is its own record
    differ = [k for k in rows if abs(live[k] - rows[k]) > 1e-9]
    assert len(differ) <= N_LIVE, differ[:5]
    flagged = {r["session"] for r in read_records(alerts) if r["kind"] == "line" and r["alert"]}
    assert {f"sess_{1000 + i:05d}" for i in ERRORS} <= flagged  # the unseen event cannot be predicted
