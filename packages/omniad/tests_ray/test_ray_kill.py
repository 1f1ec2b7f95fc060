"""A driver killed mid-grid (kill -9 or Ctrl-C) loses only jobs in flight and leaves no process.

Each driver is a real ``omniad run --executor ray`` subprocess with its own local Ray
instance; every process it starts inherits a marker variable, so the test can find exactly
those processes (and no one else's) afterwards. The rerun joins the session's Ray.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from omniad.runner.claims import Claims
from omniad.runner.config import parse_config
from omniad.runner.run import run
from omniad.runner.store import KEY_RE, ResultStore

pytestmark = pytest.mark.usefixtures("ray_session")
N_JOBS = 12
MARK = "OMNIAD_RAYTEST_MARK"


def grid(output_dir: Path) -> dict[str, object]:
    return {
        "output_dir": str(output_dir), "executor": "ray", "examples": 0, "seeds": list(range(N_JOBS)),
        "detectors": [{"id": "raytest.slow", "params": {"sleep_s": 0.7}}],
        "datasets": [{"id": "core.blobs", "params": {"n_train": 40, "n_test_normal": 20, "n_test_anomalous": 4}}],
    }


def marked(mark: str) -> list[int]:
    """Pids of live processes carrying ``MARK=mark`` in their environment (zombies excluded)."""
    needle = f"{MARK}={mark}".encode()
    out = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if needle not in (proc / "environ").read_bytes().split(b"\0"):
                continue
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            out.append(int(proc.name))
    return out


#: ``omniad run`` as a terminal starts it. A test run started in the background by a non-interactive
#: shell (``pytest ... &``, ``nohup``) inherits SIGINT ignored, and Python then leaves it ignored: the
#: driver would never see the Ctrl-C below and finish the grid with exit 0.
DRIVER = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
          "from omniad.cli import main; sys.exit(main(sys.argv[1:]))")


def start_driver(tmp_path: Path, mark: str) -> tuple[subprocess.Popen[bytes], Path]:
    cfg = tmp_path / "grid.json"
    cfg.write_text(__import__("json").dumps(grid(tmp_path / "out")))
    log = tmp_path / "driver.log"
    env = {**os.environ, MARK: mark, "RAY_ADDRESS": ""}  # its own local instance, not the session's
    with log.open("wb") as fh:
        proc = subprocess.Popen([sys.executable, "-c", DRIVER, "run", str(cfg), "--no-progress"],
                                env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, log


def finished(out: Path) -> set[str]:
    """Keys of the records the store would use: never a ``.tmp-*.json`` being written right now."""
    return set(ResultStore(out).scan().records)


def wait_for_records(out: Path, n: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 300) -> None:
    # generous: a driver starting its own Ray instance on a busy 2-core machine can take a minute
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(finished(out)) >= n:
            return
        if proc.poll() is not None:
            pytest.fail(f"the driver ended early ({proc.returncode}): {log.read_text()[-2000:]}")
        time.sleep(0.1)
    pytest.fail(f"no {n} records after {timeout} s: {log.read_text()[-2000:]}")


def name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return "?"


def assert_no_leftovers(mark: str, timeout: float = 90, tolerate: tuple[str, ...] = ()) -> None:
    """Every process the driver started is gone (but ``tolerate``d names); what is left is
    killed (these are the test's own processes) and, unless tolerated, fails the test."""
    deadline = time.monotonic() + timeout
    while (left := [p for p in marked(mark) if name(p) not in tolerate]) and time.monotonic() < deadline:
        time.sleep(0.2)
    lingering = marked(mark)
    for pid in lingering:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    if left:
        pytest.fail(f"{len(left)} processes outlived the driver: {[name(p) for p in left]}")


def snapshot(out: Path) -> dict[str, tuple[int, int]]:
    """Identity of every finished record, as the store sees them.

    A driver killed mid-write leaves ``jobs/.tmp-<hex>.json`` behind (complete or not); the store
    ignores it and reruns that job, so counting files here would expect one rerun too few.
    """
    store = ResultStore(out)
    return {key: (store.path(key).stat().st_ino, store.path(key).stat().st_mtime_ns) for key in finished(out)}


def live_claims(out: Path) -> list[Path]:
    """Claim files of jobs (``<key>.json``), not the ``.renew-``/``.stale-`` files of a claim being moved."""
    return [p for p in Claims(out).dir.glob("*.json") if KEY_RE.fullmatch(p.stem)]


def finish_and_check(tmp_path: Path, before: dict[str, tuple[int, int]]) -> None:
    """Rerun the grid: exactly the missing jobs run; finished ones are not touched."""
    assert 0 < len(before) < N_JOBS, "the driver was not stopped mid-grid"
    result = run(parse_config(grid(tmp_path / "out")), progress=False)
    assert result.ran == N_JOBS - len(before)
    assert len(result.records) == N_JOBS and all(r["status"] == "ok" for r in result.records)
    after = snapshot(tmp_path / "out")
    assert {k: after[k] for k in before} == before  # no finished job ran twice
    assert not live_claims(tmp_path / "out")


def test_kill_9_of_the_driver_then_rerun_completes_the_grid(tmp_path: Path) -> None:
    mark = uuid.uuid4().hex
    proc, log = start_driver(tmp_path, mark)
    try:
        wait_for_records(tmp_path / "out", 2, proc, log)
        proc.kill()
        proc.wait(60)
        before = snapshot(tmp_path / "out")
        # Ray's per-node agents see their raylet die but then wait out Ray's own 60 s timeout
        # reporting it to the (dead) GCS before they exit; everything that runs jobs must go now
        assert_no_leftovers(mark, tolerate=("ray::DashboardAgent", "ray::RuntimeEnvAgent"))
    finally:
        if proc.poll() is None:
            proc.kill()
    finish_and_check(tmp_path, before)


def test_ctrl_c_cancels_outstanding_tasks_and_exits_130(tmp_path: Path) -> None:
    mark = uuid.uuid4().hex
    proc, log = start_driver(tmp_path, mark)
    try:
        wait_for_records(tmp_path / "out", 2, proc, log)
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C: the whole group
        assert proc.wait(120) == 130, log.read_text()[-2000:]
        before = snapshot(tmp_path / "out")
        assert_no_leftovers(mark)
    finally:
        if proc.poll() is None:
            proc.kill()
    finish_and_check(tmp_path, before)


def test_the_snapshot_counts_what_the_store_uses_not_files_being_written(tmp_path: Path) -> None:
    """The kill -9 above lands, now and then, while the driver writes a record: the temp file it
    leaves is no finished job (the store ignores it and the rerun redoes that job)."""
    out = tmp_path / "out"
    cfg = {**grid(out), "executor": "inline", "seeds": [0, 1],
           "detectors": [{"id": "raytest.slow", "params": {"sleep_s": 0.0}}]}
    run(parse_config(cfg), progress=False)
    jobs = out / "jobs"
    record = sorted(jobs.glob("[0-9a-f]*.json"))[0]
    (jobs / ".tmp-0123456789abcdef0123456789abcdef.json").write_bytes(record.read_bytes()[:40])  # torn
    (jobs / ".tmp-fedcba9876543210fedcba9876543210.json").write_bytes(record.read_bytes())  # complete
    record.unlink()  # as if that job's rename had not happened yet
    before = snapshot(out)
    assert len(before) == 1
    rerun = run(parse_config(cfg), progress=False)
    assert rerun.ran == 2 - len(before) == 1
    assert len(snapshot(out)) == 2
