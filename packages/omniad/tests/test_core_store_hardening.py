"""The store, claims and process executor under abuse: bad output dirs, damaged or forged
records, missing pyarrow, permissions, killed and interrupted runners, concurrent runners."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from omniad import plugins
from omniad.errors import ConfigError
from omniad.runner import ResultStore, parse_config, plan, run
from omniad.runner import report as report_mod
from omniad.runner.claims import Claims, pid_alive

SMALL = {"n_train": 30, "n_test_normal": 10, "n_test_anomalous": 4}

SLOW = """
import os, signal, time
import numpy as np
from omniad import Detector, Scores, hookimpl

class Slow(Detector):
    # logs every fit (pid and seed) so tests can count executions; sleeps from seed SLOW_FROM on
    def _fit(self, samples):
        if self.seed == int(os.environ.get("OMNIAD_TEST_CRASH_SEED", "-1")):
            os.kill(os.getpid(), signal.SIGKILL)  # the worker dies as in a segfault (os._exit is caught now)
        log = os.environ.get("OMNIAD_TEST_LOG")
        if log:
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            os.write(fd, f"{os.getpid()} {self.seed}\\n".encode())
            os.close(fd)
        if self.seed >= int(os.environ.get("OMNIAD_TEST_SLOW_FROM", "0")):
            time.sleep(float(os.environ.get("OMNIAD_TEST_SLEEP", "0")))

    def _score(self, samples):
        return Scores(sample=np.linspace(0.0, 1.0, len(samples)))

@hookimpl
def omniad_register_detectors(registry):
    registry.add(id="slow.sleep", target="fake_omniad_slow:Slow", modality="tabular", summary="sleeps in fit")
"""


def config(out: Path, detectors=None, seeds=(0,), **extra):
    return parse_config({
        "output_dir": str(out),
        "detectors": detectors or [{"id": "core.knn"}],
        "datasets": [{"id": "core.blobs", "params": SMALL}],
        "metrics": ["core.auroc"],
        "seeds": list(seeds),
        "examples": 0,
        **extra,
    })


def omniad(*args: str, env=None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "omniad", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


def slow_plugin_dir(tmp_path: Path) -> Path:
    """The slow detector as an installed distribution on a PYTHONPATH folder (works across spawn)."""
    root = tmp_path / "plug"
    root.mkdir()
    (root / "fake_omniad_slow.py").write_text(textwrap.dedent(SLOW))
    dist = root / "fake_omniad_slow-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-omniad-slow\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[omniad]\nslow = fake_omniad_slow\n")
    return root


def slow_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "OMNIAD_STRICT_PLUGINS"}
    path = os.pathsep.join(p for p in (str(slow_plugin_dir(tmp_path)), env.get("PYTHONPATH")) if p)
    env.update(PYTHONPATH=path, OMNIAD_LOAD_PLUGINS="slow",
               OMNIAD_TEST_LOG=str(tmp_path / "fits.log"), **extra)
    return env


def fits(tmp_path: Path) -> list[tuple[int, int]]:
    log = tmp_path / "fits.log"
    if not log.is_file():
        return []
    return [(int(a), int(b)) for a, b in (line.split() for line in log.read_text().splitlines())]


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def kill_leftovers(pids: set[int]) -> None:
    """So that a failing test does not leave sleeping orphans behind."""
    for pid in pids:
        if pid_alive(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (workers and the multiprocessing resource tracker)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    out, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - out
        out |= frontier
    return out


# -- 1. output directory checked before any work -------------------------------------------------

def test_output_dir_that_is_a_file_or_cannot_be_created(tmp_path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    for bad in (afile, afile / "sub"):
        with pytest.raises(ConfigError, match="output directory"):
            run(config(bad), progress=False)
    assert afile.read_text() == "keep me"
    cfg = tmp_path / "grid.toml"
    cfg.write_text('[[detectors]]\nid = "core.knn"\n[[datasets]]\nid = "core.blobs"\n')
    bad_dirs = [str(afile), str(afile / "sub")] + (["/proc/x"] if Path("/proc/self").exists() else [])
    for bad in bad_dirs:
        proc = omniad("run", str(cfg), "--output-dir", bad, "--no-progress")
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2, proc.stderr
        assert len(lines) == 1 and lines[0].startswith("error:") and bad in lines[0], proc.stderr


# -- 2./3. records are verified when read ------------------------------------------------------

def _two_jobs(tmp_path: Path):
    cfg = config(tmp_path / "out", [{"id": "core.knn"}, {"id": "core.mahalanobis"}])
    first = run(cfg, progress=False)
    store = ResultStore(tmp_path / "out")
    return cfg, first, store


def test_record_that_is_json_but_not_an_object(tmp_path) -> None:
    cfg, first, store = _two_jobs(tmp_path)
    bad = store.path(first.records[0]["key"])
    bad.write_text("[]")
    proc = omniad("report", str(tmp_path / "out"))
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 1, proc.stderr
    assert f"{bad}: not a JSON object" in proc.stderr and "left out" in proc.stderr
    said: list[str] = []
    again = run(cfg, progress=False, log=said.append)
    assert again.ran == 1 and again.skipped == 1
    assert any(str(bad) in line and "will rerun" in line for line in said)
    assert json.loads(bad.read_text())["status"] == "ok"


def test_forged_truncated_and_stray_records_are_not_used(tmp_path) -> None:
    cfg, first, store = _two_jobs(tmp_path)
    knn, maha = sorted(first.records, key=lambda r: r["detector"]["id"])
    scan = store.scan()
    assert not scan.problems and set(scan.records) == {knn["key"], maha["key"]}

    # a stray complete temp file (a writer killed between write and rename) is not a 3rd row
    shutil.copy(store.path(knn["key"]), store.jobs_dir / ".tmp-abc123.json")
    (store.jobs_dir / "notes.json").write_text("{}")
    assert len(store.scan().records) == 2 and not store.scan().problems

    cases = {
        "does not match the file name": {**knn, "key": "0" * 16},
        "belong to job": {**knn, "key": maha["key"]},  # knn's result under maha's name
        "not a finite number": {**maha, "metrics": {"core.auroc": "0.99"}},
        "record_version": {**maha, "record_version": 99},
        "'status'": {**maha, "status": "done"},
    }
    for reason, forged in cases.items():
        store.path(maha["key"]).write_text(json.dumps(forged))
        problems = store.scan().problems
        assert [p.path for p in problems] == [store.path(maha["key"])] and reason in problems[0].reason, problems
        assert store.needs_run(plan(cfg, plugins.get_registry())[1], "failed")  # not reused as finished

    text = json.dumps(maha)
    store.path(maha["key"]).write_text(text[: len(text) // 2])  # truncated
    proc = omniad("report", str(tmp_path / "out"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"{store.path(maha['key'])}: not valid JSON" in proc.stderr
    assert "1 of 2 records could not be used" in proc.stderr
    rows = (tmp_path / "out" / "results.csv").read_text().strip().splitlines()
    assert len(rows) == 2  # header + knn: the stray temp file adds nothing

    again = run(cfg, progress=False, log=lambda msg: None)
    assert again.ran == 1 and len(again.records) == 2 and not again.problems
    assert omniad("report", str(tmp_path / "out")).returncode == 0


def test_an_infinite_metric_is_not_stored_as_a_result(tmp_path) -> None:
    _, first, store = _two_jobs(tmp_path)
    record = dict(first.records[0], metrics={"core.auroc": 0.9, "core.f1_max.threshold": float("inf")})
    store.write(record)
    back = store.get(record["key"])
    assert back is not None and back["metrics"] == {"core.auroc": 0.9}
    assert "inf" in back["metric_errors"]["core.f1_max.threshold"]


# -- 4. parquet without pyarrow ---------------------------------------------------------------

def test_missing_pyarrow_is_said_and_the_other_reports_written(tmp_path, monkeypatch) -> None:
    _, first, _ = _two_jobs(tmp_path)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    said: list[str] = []
    written = report_mod.write_all(first.records, tmp_path / "rep", warn=said.append)
    assert "parquet" not in written and set(written) == {"csv", "subsets_csv", "markdown", "html"}
    assert all(p.is_file() for p in written.values())
    assert len(said) == 1 and "omniad[parquet]" in said[0] and "results.parquet" in said[0]
    assert "results_subsets.parquet" in said[0] and not (tmp_path / "rep" / "results_subsets.parquet").exists()


# -- 5. permissions -----------------------------------------------------------------------------

@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_records_get_ordinary_permissions(tmp_path) -> None:
    old = os.umask(0o022)
    try:
        _, first, store = _two_jobs(tmp_path)
        modes = {p.name: p.stat().st_mode & 0o777 for p in store.jobs_dir.iterdir()}
        assert set(modes.values()) == {0o644}, modes
        assert (tmp_path / "out" / "run.json").stat().st_mode & 0o777 == 0o644
        os.umask(0o002)
        store.write(first.records[0])
        assert store.path(first.records[0]["key"]).stat().st_mode & 0o777 == 0o664
    finally:
        os.umask(old)


# -- 7. claims: one execution per job however many runners ----------------------------------------

def test_two_concurrent_runners_execute_every_job_once(tmp_path, make_plugin, monkeypatch) -> None:
    make_plugin("slow", SLOW)
    monkeypatch.setenv("OMNIAD_TEST_LOG", str(tmp_path / "fits.log"))
    monkeypatch.setenv("OMNIAD_TEST_SLEEP", "0.1")
    cfg = config(tmp_path / "out", [{"id": "slow.sleep"}], seeds=range(12))
    plugins.get_registry()  # built once, before the threads share it
    results, errors, said = [], [], []

    def runner() -> None:
        try:
            results.append(run(cfg, progress=False, log=said.append))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    seeds = sorted(seed for _, seed in fits(tmp_path))
    assert seeds == list(range(12)), seeds  # 12 executions, not 24
    assert sum(r.ran for r in results) == 12
    assert max(len(r.records) for r in results) == 12  # the runner ending last sees the other's records
    assert len(ResultStore(tmp_path / "out").records()) == 12
    assert not list((tmp_path / "out" / "claims").iterdir())


def _write_claim(claims_dir: Path, key: str, pid: int, host: str, expires_in: float) -> Path:
    claims_dir.mkdir(parents=True, exist_ok=True)
    path = claims_dir / f"{key}.json"
    now = time.time()
    path.write_text(json.dumps({"key": key, "pid": pid, "host": host, "token": "someone-else",
                                "started_at": now, "expires_at": now + expires_in}))
    return path


def test_stale_claims_are_taken_over_and_live_ones_respected(tmp_path, make_plugin, monkeypatch) -> None:
    make_plugin("slow", SLOW)
    monkeypatch.setenv("OMNIAD_TEST_LOG", str(tmp_path / "fits.log"))
    cfg = config(tmp_path / "out", [{"id": "slow.sleep"}], seeds=range(3))
    dead, expired, live = plan(cfg, plugins.get_registry())
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert not pid_alive(gone.pid)
    claims = tmp_path / "out" / "claims"
    host = socket.gethostname()
    _write_claim(claims, dead.key, gone.pid, host, 3600)  # owner died (same host)
    _write_claim(claims, expired.key, 1, "another-host.example", -1)  # lease ran out
    held = _write_claim(claims, live.key, os.getpid(), host, 300)  # a live runner (expiry within a lease)
    said: list[str] = []
    result = run(cfg, progress=False, log=said.append)
    assert sorted(seed for _, seed in fits(tmp_path)) == [0, 1]
    assert result.ran == 2 and result.elsewhere == 1 and len(result.records) == 2
    assert f"1 jobs are being run by another runner (pid {os.getpid()}, host {host})" in "\n".join(said)
    assert sorted(p.name for p in claims.iterdir()) == [held.name]  # ours released, theirs untouched

    # the other runner finishes (record written, claim removed): its record is used, nothing reruns
    theirs = run(config(tmp_path / "theirs", [{"id": "slow.sleep"}], seeds=[2]), progress=False).records[0]
    assert theirs["key"] == live.key
    ResultStore(tmp_path / "out").write(theirs)
    held.unlink()
    final = run(cfg, progress=False, log=said.append)
    assert final.ran == 0 and len(final.records) == 3 and live.key in {r["key"] for r in final.records}
    assert sorted(seed for _, seed in fits(tmp_path)) == [0, 1, 2]  # seed 2 ran once, in "theirs"


def test_a_record_written_meanwhile_by_another_runner_is_not_rerun(tmp_path, make_plugin, monkeypatch) -> None:
    make_plugin("slow", SLOW)
    monkeypatch.setenv("OMNIAD_TEST_LOG", str(tmp_path / "fits.log"))
    donor = run(config(tmp_path / "donor", [{"id": "slow.sleep"}], seeds=range(3)), progress=False)
    (tmp_path / "fits.log").unlink()
    by_seed = {r["seed"]: r for r in donor.records}
    store = ResultStore(tmp_path / "out")
    real_acquire = Claims.acquire

    def acquire(self, key):  # the other runner finishes seed 1 after our scan, before we claim it
        if key == by_seed[1]["key"]:
            store.write(by_seed[1])
        return real_acquire(self, key)

    monkeypatch.setattr(Claims, "acquire", acquire)
    said: list[str] = []
    result = run(config(tmp_path / "out", [{"id": "slow.sleep"}], seeds=range(3)), progress=False, log=said.append)
    assert sorted(seed for _, seed in fits(tmp_path)) == [0, 2]
    assert result.ran == 2 and result.skipped == 1 and len(result.records) == 3
    assert any("finished by another runner" in line for line in said)


# -- 6. process executor: workers die with the parent; Ctrl-C returns fast -----------------------

needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc to find the workers")


def test_a_dead_worker_fails_its_job_and_the_grid_goes_on(tmp_path, make_plugin, monkeypatch) -> None:
    make_plugin("slow", SLOW)
    monkeypatch.setenv("OMNIAD_TEST_CRASH_SEED", "0")
    cfg = config(tmp_path / "out", [{"id": "slow.sleep"}], seeds=range(3), executor="process", workers=1)
    result = run(cfg, progress=False)
    status = {r["seed"]: r["status"] for r in result.records}
    assert status == {0: "failed", 1: "ok", 2: "ok"}, status  # a fresh pool runs the rest
    assert "worker process died" in next(r for r in result.records if r["seed"] == 0)["error"]


def _slow_grid(tmp_path: Path, seeds: int) -> Path:
    cfg = tmp_path / "grid.toml"
    cfg.write_text(
        f'output_dir = "{tmp_path / "out"}"\nexecutor = "process"\nworkers = 2\nexamples = 0\n'
        f'seeds = {list(range(seeds))}\nmetrics = ["core.auroc"]\n'
        '[[detectors]]\nid = "slow.sleep"\n'
        '[[datasets]]\nid = "core.blobs"\nparams = { n_train = 30, n_test_normal = 10, n_test_anomalous = 4 }\n'
    )
    return cfg


@needs_proc
def test_kill_9_of_the_parent_takes_the_workers_along(tmp_path) -> None:
    env = slow_env(tmp_path, OMNIAD_TEST_SLEEP="120")
    cfg = _slow_grid(tmp_path, 4)
    parent = subprocess.Popen([sys.executable, "-m", "omniad", "run", str(cfg), "--no-progress"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    children: set[int] = set()
    try:
        wait_for(lambda: len(fits(tmp_path)) >= 2, 120, "two workers in fit")
        workers = {pid for pid, _ in fits(tmp_path)}
        children = descendants(parent.pid)
        assert workers <= children and len(children) >= 3, (workers, children)  # + resource tracker
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        # workers poll for their parent every 0.5 s and go within a second or two; 30 s leaves room
        # for a busy CI machine while still far below the 120 s the jobs would sleep
        t0 = time.monotonic()
        wait_for(lambda: not any(pid_alive(p) for p in children), 30, f"orphans {children} to exit")
        assert time.monotonic() - t0 < 30
    finally:
        if parent.poll() is None:
            parent.kill()
        parent.wait()
        kill_leftovers(children)
    # the dead runner's claims are taken over at once: a resume runs the two jobs it held
    proc = omniad("run", str(cfg), "--no-progress", "--executor", "inline",
                  env={**env, "OMNIAD_TEST_SLEEP": "0"})
    assert proc.returncode == 0, proc.stderr
    assert "4 jobs (4 run, 0 reused)" in proc.stderr


@needs_proc
def test_ctrl_c_stops_the_workers_and_keeps_finished_records(tmp_path) -> None:
    env = slow_env(tmp_path, OMNIAD_TEST_SLEEP="120", OMNIAD_TEST_SLOW_FROM="2")
    cfg = _slow_grid(tmp_path, 4)
    parent = subprocess.Popen([sys.executable, "-m", "omniad", "run", str(cfg), "--no-progress"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    children: set[int] = set()
    try:
        # records as the store sees them: a ``.tmp-*.json`` being renamed is not one yet
        wait_for(lambda: len(fits(tmp_path)) >= 4 and len(ResultStore(tmp_path / "out").records()) == 2, 120,
                 "two jobs finished and two in flight")
        workers = {pid for pid, _ in fits(tmp_path)}
        children = descendants(parent.pid)
        t0 = time.monotonic()
        parent.send_signal(signal.SIGINT)
        _, err = parent.communicate(timeout=90)
        took = time.monotonic() - t0
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        with contextlib.suppress(AssertionError):  # the resource tracker exits once it reads EOF
            wait_for(lambda: not any(pid_alive(p) for p in children), 30, "workers to exit")
        alive = {p for p in children if pid_alive(p)}
        kill_leftovers(children)
    assert parent.returncode == 130, err
    # about 1 s on an idle machine; the jobs in flight sleep 120 s, so anything under 60 s shows
    # that Ctrl-C did not wait for them, with room for a loaded CI machine
    assert took < 60, f"Ctrl-C took {took:.1f} s"
    assert "interrupted: finished jobs are saved" in err and "Traceback" not in err
    assert len(ResultStore(tmp_path / "out").records()) == 2
    assert workers <= children and not alive, (workers, alive)  # workers and resource tracker gone
    assert not list((tmp_path / "out" / "claims").iterdir())


def test_a_live_runner_renews_its_leases(tmp_path) -> None:
    # renewal every 0.1 s against a 2 s lease: the renewing thread may starve for 1.9 s on a
    # busy machine before the claim lapses (it was 0.5 s against a 0.6 s lease)
    with Claims(tmp_path, lease_s=2.0, renew_s=0.1) as mine:
        assert mine.acquire("a" * 16) is None
        time.sleep(3.0)  # longer than the lease: only renewal keeps it
        other = Claims(tmp_path)
        owner = other.acquire("a" * 16)
        assert owner is not None and owner.pid == os.getpid() and owner.token == mine.token
    assert not list((tmp_path / "claims").iterdir())  # released on exit
    assert other.acquire("a" * 16) is None


def test_an_unreadable_claim_is_honoured_briefly_then_taken_over(tmp_path) -> None:
    claims = Claims(tmp_path)
    claims.dir.mkdir()
    torn = claims.path("b" * 16)
    torn.write_text('{"pid": 12')  # its owner may still be writing it
    assert claims.acquire("b" * 16) is not None
    os.utime(torn, (time.time() - 60, time.time() - 60))  # nobody finished writing it
    assert claims.acquire("b" * 16) is None
    assert json.loads(torn.read_text())["token"] == claims.token


# -- a finished record holds what its status promises --------------------------------------------

def test_a_record_that_claims_results_it_does_not_hold_reruns(tmp_path) -> None:
    cfg, first, store = _two_jobs(tmp_path)
    _, maha = sorted(first.records, key=lambda r: r["detector"]["id"])
    sub = maha["subsets"][0]
    failed_sub = {"name": "other", "status": "failed", "error": "boom"}
    cases = {
        "status 'ok' but it has no subsets": {**maha, "metrics": {}, "subsets": [], "n_subsets": 0,
                                              "n_failed_subsets": 0},
        "status 'ok' but 1 of 2 subsets ran ok": {**maha, "subsets": [sub, failed_sub], "n_subsets": 2,
                                                  "n_failed_subsets": 1},
        "status 'partial' but none of its 1 subsets ran ok": {**maha, "status": "partial", "subsets": [failed_sub],
                                                              "n_failed_subsets": 1},
        "requested metric 'core.auroc' is neither": {**maha, "metrics": {}, "metric_errors": {}},
        "in no subset that ran ok": {**maha, "subsets": [{**sub, "metrics": {}, "metric_errors": {"core.auroc": "x"}}]},
        "'n_subsets' is 3 but the record lists 1": {**maha, "n_subsets": 3},
        "subsets[0].status 'done'": {**maha, "subsets": [{**sub, "status": "done"}]},
        "subsets[0].metrics 'core.auroc' is '0.9', not a number": {**maha, "subsets": [{**sub, "metrics": {"core.auroc": "0.9"}}]},
        "subsets[0].counts 'nan_repaired' is '3', not an integer": {**maha, "subsets": [{**sub, "counts": {"nan_repaired": "3"}}]},
        "subsets[0].counts 'nan_repaired' is True, not an integer": {**maha, "subsets": [{**sub, "counts": {"nan_repaired": True}}]},
        "subsets[0].warnings is not a list of strings": {**maha, "subsets": [{**sub, "warnings": "a warning"}]},
        "subsets[0].artifacts is not a list of strings": {**maha, "subsets": [{**sub, "artifacts": [1]}]},
        "'data_notes' is not a string": {**maha, "data_notes": ["nan_repaired 3"]},
        "'metric_errors' 'core.auroc' is 1, not a string": {**maha, "metric_errors": {"core.auroc": 1}},
    }
    job = plan(cfg, plugins.get_registry())[1]
    assert job.key == maha["key"]
    for reason, forged in cases.items():
        store.path(maha["key"]).write_text(json.dumps(forged))
        problems = store.scan().problems
        assert [p.path for p in problems] == [store.path(maha["key"])] and reason in problems[0].reason, (reason, problems)
        assert store.needs_run(job, "failed")  # not reused as finished

    # what the runner writes is accepted, with or without the data-note fields of newer records
    noted = {**maha, "data_notes": "nan_repaired 3", "subsets": [{**sub, "counts": {"nan_repaired": 3},
                                                                   "warnings": ["UserWarning: 3 NaN repaired"]}]}
    for good in (maha, noted, {**maha, "status": "partial", "subsets": [sub, failed_sub], "n_subsets": 2,
                               "n_failed_subsets": 1}):
        store.path(maha["key"]).write_text(json.dumps(good))
        assert not store.scan().problems and not store.needs_run(job, "failed")

    # the reported case: edited to ok with nothing in it; the next run redoes the job
    store.path(maha["key"]).write_text(json.dumps({**maha, "status": "ok", "metrics": {}, "subsets": []}))
    said: list[str] = []
    again = run(cfg, progress=False, log=said.append)
    assert again.ran == 1 and any("has no subsets" in line and "will rerun" in line for line in said)
    assert store.get(maha["key"])["subsets"]


def test_an_infinite_subset_metric_is_moved_aside_when_written(tmp_path) -> None:
    _, first, store = _two_jobs(tmp_path)
    record = json.loads(json.dumps(first.records[0]))
    record["subsets"][0]["metrics"]["core.auroc"] = float("inf")
    record["metrics"]["core.auroc"] = float("inf")
    store.write(record)
    back = store.get(record["key"])
    assert back is not None and "core.auroc" not in back["metrics"] and "core.auroc" not in back["subsets"][0]["metrics"]
    assert "inf" in back["metric_errors"]["core.auroc"] and "inf" in back["subsets"][0]["metric_errors"]["core.auroc"]


# -- a claim cannot hold a job for ever ------------------------------------------------------------

def test_a_claim_with_a_far_future_expiry_does_not_block_its_job(tmp_path) -> None:
    cfg = config(tmp_path / "out")
    (job,) = plan(cfg, plugins.get_registry())
    assert pid_alive(1)  # init: alive on every Linux host, and not ours
    _write_claim(tmp_path / "out" / "claims", job.key, 1, socket.gethostname(), 10 * 365 * 86400)
    for _ in range(2):  # was: "1 jobs are being run by another runner", run after run, exit 0
        result = run(cfg, progress=False, log=lambda msg: None)
        assert result.elsewhere == 0 and len(result.records) == 1
    assert not list((tmp_path / "out" / "claims").iterdir())


def test_claims_expire_on_age_whatever_they_say(tmp_path) -> None:
    from omniad.runner.claims import LEASE_S, RENEW_S

    claims = Claims(tmp_path)
    host = socket.gethostname()
    # a live owner within its lease: honoured (a Python process: init, pid 1, is no runner; see
    # test_core_grid_hardening)
    fresh = _write_claim(claims.dir, "a" * 16, os.getpid(), host, LEASE_S / 2)
    assert claims.acquire("a" * 16) is not None
    void = _write_claim(claims.dir, "b" * 16, 1, host, LEASE_S + 2 * RENEW_S)  # more than a lease ahead
    assert claims.acquire("b" * 16) is None and json.loads(void.read_text())["token"] == claims.token
    old = time.time() - LEASE_S - 2 * RENEW_S  # written long ago, never renewed, expiry still ahead
    aged = _write_claim(claims.dir, "c" * 16, 1, "another-host.example", LEASE_S / 2)
    os.utime(aged, (old, old))
    assert claims.acquire("c" * 16) is None and json.loads(aged.read_text())["token"] == claims.token
    assert json.loads(fresh.read_text())["token"] == "someone-else"
    with Claims(tmp_path, lease_s=2.0, renew_s=0.1) as mine:  # a renewed short lease stays honoured
        assert mine.acquire("d" * 16) is None
        assert Claims(tmp_path).acquire("d" * 16) is not None
