"""``omniad watch`` on a live metric: rows written one by one to a CSV (or JSON lines) while the watcher follows.

A model (``timeseries.lof``, window 1, so each row is decided at once) is fitted on a day of a
seasonal CPU/memory metric; the live file gets three spikes at known rows. Checks: those rows
are alerted, few others are, the exit is clean, a watcher killed with SIGKILL mid-stream and
restarted writes exactly the alerts of an uninterrupted run, JSON lines read like CSV rows,
SPOT takes over the threshold and says so, and bad rows are counted while the watch goes on.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import omniad
from omniad.testing.watch import append_process, kill_after_checkpoint, read_records, watch_process
from omniad.watch import watch

SPIKES = (150, 400, 650)  # 0-based data rows of the live file
N_LIVE = 800


def _quiet(_: str) -> None:
    pass


def metric(n: int, seed: int, spikes: tuple[int, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    cpu = 50 + 10 * np.sin(np.arange(n) * 2 * np.pi / 60) + rng.normal(0, 1, n)
    mem = 30 + rng.normal(0, 1, n)
    for i in spikes:
        cpu[i] += 45
    return cpu, mem


def write_csv(path: Path, n: int, seed: int, spikes: tuple[int, ...] = (), start: int = 0) -> list[str]:
    cpu, mem = metric(n, seed, spikes)
    lines = ["timestamp,cpu,mem"] + [
        f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(1_767_225_600 + 60 * (start + i)))},{c:.3f},{m:.3f}"
        for i, (c, m) in enumerate(zip(cpu, mem, strict=True))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("watch")
    write_csv(d / "fit.csv", 3000, seed=0)
    write_csv(d / "live_full.csv", N_LIVE, seed=1, spikes=SPIKES, start=4000)
    omniad.fit("timeseries.lof", d / "fit.csv", say=_quiet).save(d / "lof")
    return d


def _cli(work: Path, source: Path, alerts: Path, *extra: str) -> subprocess.Popen[str]:
    return watch_process(work / "lof", source, alerts, *extra)


def test_rows_written_one_by_one_are_scored_and_the_spikes_alerted(work: Path, tmp_path: Path) -> None:
    target = tmp_path / "metrics.csv"
    target.touch()
    alerts = tmp_path / "alerts.jsonl"
    watcher = _cli(work, target, alerts, "--max-lines", str(N_LIVE + 1))
    writer = append_process(work / "live_full.csv", target, rate=400, chunk=5)
    assert writer.wait(timeout=300) == 0
    _, err = watcher.communicate(timeout=300)
    assert watcher.returncode == 0, err
    rows = [r["row"] for r in read_records(alerts)]
    assert {i + 1 for i in SPIKES} <= set(rows), rows  # rows are numbered from 1
    assert len(rows) <= 3 + 25, rows  # LOF of single values: a few false alarms at the seasonal extremes
    spike = next(r for r in read_records(alerts) if r["row"] == SPIKES[0] + 1)
    assert spike["values"]["cpu"] > 80 and "cpu" in spike["why"] and spike["timestamp"] is not None
    assert spike["line"] == SPIKES[0] + 2  # the header is line 1


def test_killed_watcher_resumes_without_losing_or_repeating_alerts(work: Path, tmp_path: Path) -> None:
    full = work / "live_full.csv"
    ref_alerts = tmp_path / "ref.jsonl"
    ref = _cli(work, full, ref_alerts, "--max-lines", str(N_LIVE + 1))
    assert ref.wait(timeout=300) == 0
    reference = Counter((r["row"], round(r["score"], 9)) for r in read_records(ref_alerts))
    assert len(reference) >= 3

    target = tmp_path / "metrics.csv"
    target.touch()
    alerts = tmp_path / "alerts.jsonl"
    checkpoint = Path(str(alerts) + ".checkpoint")
    go_on = tmp_path / "go-on"  # the writer holds after 400 rows until the kill: the stream is never over by then
    writer = append_process(full, target, rate=100, chunk=5, hold_after=400, go_on=go_on)
    first = _cli(work, target, alerts, "--max-lines", str(N_LIVE + 1), "--checkpoint-every", "0.05")
    at_kill = kill_after_checkpoint(first, checkpoint, at_least=200)
    go_on.touch()
    assert 200 <= at_kill < N_LIVE, at_kill
    assert writer.wait(timeout=300) == 0
    second = _cli(work, target, alerts, "--max-lines", str(N_LIVE + 1))
    _, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert "resuming from checkpoint" in err
    assert Counter((r["row"], round(r["score"], 9)) for r in read_records(alerts)) == reference


def test_json_lines_are_read_like_csv_rows(work: Path, tmp_path: Path) -> None:
    lines = (work / "live_full.csv").read_text().splitlines()
    header = lines[0].split(",")
    src = tmp_path / "metrics.jsonl"
    src.write_text("\n".join(json.dumps({header[0]: f[0], "cpu": float(f[1]), "mem": float(f[2])})
                             for f in (ln.split(",") for ln in lines[1:])) + "\n")
    csv_alerts, json_alerts = tmp_path / "c.jsonl", tmp_path / "j.jsonl"
    watch(work / "lof", str(work / "live_full.csv"), alerts=csv_alerts, start="begin", until="5m", max_lines=N_LIVE + 1,
          say=_quiet)
    watch(work / "lof", str(src), alerts=json_alerts, start="begin", until="5m", max_lines=N_LIVE, say=_quiet)
    assert [r["row"] for r in read_records(csv_alerts)] == [r["row"] for r in read_records(json_alerts)]


def test_spot_takes_over_the_threshold_and_says_so(work: Path, tmp_path: Path) -> None:
    said: list[str] = []
    alerts = tmp_path / "a.jsonl"
    spikes = (1150, 1300, 1380)
    write_csv(tmp_path / "long.csv", 1400, seed=4, spikes=spikes, start=9000)
    summary = watch(work / "lof", str(tmp_path / "long.csv"), alerts=alerts, start="begin", until="5m", max_lines=1401,
                    options={"adapt": "spot", "spot_init": 1000}, say=said.append)
    assert any("spot takes over" in m for m in said), said
    late = [r for r in read_records(alerts) if r["row"] > 1000]
    assert late and all(r["threshold_rule"] == "spot" for r in late)
    assert {i + 1 for i in spikes} <= {r["row"] for r in late}
    assert "threshold_updates" in summary.status


def test_bad_rows_are_counted_and_the_watch_goes_on(work: Path, tmp_path: Path) -> None:
    lines = (work / "live_full.csv").read_text().splitlines()
    bad = [*lines[:100], "2026-01-01T00:00:00,not-a-number,3", "1,2", lines[50], "\x00\x01binary", *lines[100:200]]
    src = tmp_path / "bad.csv"
    src.write_text("\n".join(bad) + "\n")
    # the binary line is dropped, not scored, so it does not count toward max_lines
    summary = watch(work / "lof", str(src), alerts=tmp_path / "a.jsonl", start="begin", until="5m", max_lines=len(bad) - 1,
                    say=_quiet)
    assert summary.status["rows"] == 199
    assert summary.status["rows_unreadable"] == 1 and summary.status["rows_wrong_field_count"] == 1
    assert summary.status["timestamps_backwards"] == 1 and summary.counts["binary_lines"] == 1
