"""Grid files, records and claims under abuse, second pass (issue 32): what a tester's edits,
stray files and odd inputs did, each now refused or repaired in the open."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from omniad import plugins
from omniad.cli import main
from omniad.errors import ConfigError
from omniad.runner import ResultStore, load_config, parse_config, plan, run
from omniad.runner import claims as claims_mod
from omniad.runner.claims import Claims, pid_alive

SMALL = {"n_train": 30, "n_test_normal": 10, "n_test_anomalous": 4}
GRID = '[[detectors]]\nid = "core.knn"\n[[datasets]]\nid = "core.blobs"\nparams = {n_train = 30, n_test_normal = 10, n_test_anomalous = 4}\n'
has_proc = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="reads process start times from /proc"
)


def config(out: Path, **extra):
    return parse_config(
        {
            "output_dir": str(out),
            "detectors": [{"id": "core.knn"}],
            "datasets": [{"id": "core.blobs", "params": SMALL}],
            "metrics": ["core.auroc"],
            "examples": 0,
            **extra,
        }
    )


def one_line_error(capsys, code: int, args: list[str], needle: str) -> None:
    assert main(args) == code
    lines = capsys.readouterr().err.strip().splitlines()
    assert (
        len(lines) == 1 and lines[0].startswith("error:") and args[-1] in lines[0] and needle in lines[0]
    ), lines


# -- item 2: a finished record must hold what it promises -----------------------------------------


def test_a_skip_without_reason_or_an_unfounded_metric_excuse_is_not_taken_as_finished(tmp_path) -> None:
    cfg = config(tmp_path / "out")
    (record,) = run(cfg, progress=False).records
    (job,) = plan(cfg, plugins.get_registry())
    store = ResultStore(tmp_path / "out")
    sub = {**record["subsets"][0], "metrics": {}}
    cases = {  # were all reused as finished, the job never rerun
        "status 'skipped' but no 'error' says why": {
            **record,
            "status": "skipped",
            "metrics": {},
            "subsets": [],
            "n_subsets": 0,
            "n_failed_subsets": 0,
        },
        "requested metric 'core.auroc' is explained in 'metric_errors' but by no subset": {
            **record,
            "metrics": {},
            "subsets": [sub],
            "metric_errors": {"core.auroc": "x"},
        },
        "requested metric 'core.auroc' has an empty reason": {
            **record,
            "metrics": {},
            "subsets": [{**sub, "metric_errors": {"core.auroc": " "}}],
            "metric_errors": {"core.auroc": " "},
        },
    }
    for reason, forged in cases.items():
        store.path(job.key).write_text(json.dumps(forged))
        problems = store.scan().problems
        assert len(problems) == 1 and reason in problems[0].reason, (reason, problems)
        assert store.needs_run(job, "failed")
    # what the runner writes stays accepted: an excuse a subset gives, a metric left out before the job
    # ran, a skip with its reason
    for good in (
        {
            **record,
            "metrics": {},
            "subsets": [{**sub, "metric_errors": {"core.auroc": "ValueError: one class"}}],
            "metric_errors": {"core.auroc": "ValueError: one class"},
        },
        {
            **record,
            "metrics": {},
            "subsets": [sub],
            "metric_errors": {"core.auroc": "not computed: no labels"},
        },
        {
            **record,
            "status": "skipped",
            "error": "detector x requires a GPU and none is available",
            "metrics": {},
            "subsets": [],
            "n_subsets": 0,
            "n_failed_subsets": 0,
        },
    ):
        store.path(job.key).write_text(json.dumps(good))
        assert not store.scan().problems
    # the tester's case through the runner: a skip with no reason is named and the job redone
    store.path(job.key).write_text(json.dumps(cases["status 'skipped' but no 'error' says why"]))
    said: list[str] = []
    again = run(cfg, progress=False, log=said.append)
    assert again.ran == 1 and again.records[0]["status"] == "ok"
    assert any(
        str(store.path(job.key)) in line and "no 'error' says why" in line and "will rerun" in line
        for line in said
    ), said
    # a skip written without a reason is stored with one rather than refused mid-run
    store.write(
        {**record, "status": "skipped", "metrics": {}, "subsets": [], "n_subsets": 0, "n_failed_subsets": 0}
    )
    assert "gave no reason" in store.get(job.key)["error"]


# -- item 3: a claim is only honoured for a process that may be its runner ------------------------


def _claim(claims: Claims, key: str, pid: int, **extra) -> Path:
    claims.dir.mkdir(parents=True, exist_ok=True)
    now = time.time()
    path = claims.path(key)
    path.write_text(
        json.dumps(
            {
                "key": key,
                "pid": pid,
                "host": socket.gethostname(),
                "token": "someone-else",
                "started_at": now,
                "expires_at": now + 300,
                **extra,
            }
        )
    )
    return path


@has_proc
def test_a_live_pid_that_is_not_the_claims_runner_does_not_hold_the_job(tmp_path) -> None:
    claims = Claims(tmp_path)
    assert pid_alive(1) and not claims_mod.could_be_runner(1)  # init: alive, and no omniad runner
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        for key, pid, extra in (
            ("a" * 16, 1, {}),  # was honoured for a whole lease, run after run
            ("b" * 16, sleeper.pid, {}),
            ("c" * 16, os.getpid(), {"proc_start": "1"}),
        ):  # our pid, another start: reused pid
            path = _claim(claims, key, pid, **extra)
            assert claims.acquire(key) is None, key
            assert json.loads(path.read_text())["token"] == claims.token
    finally:
        sleeper.kill()
        sleeper.wait()
    # the runner that wrote it, or an older runner's claim naming a Python process: honoured
    held = _claim(claims, "d" * 16, os.getpid(), proc_start=claims_mod.proc_start(os.getpid()))
    old_style = _claim(claims, "e" * 16, os.getpid())
    assert claims.acquire("d" * 16) is not None and claims.acquire("e" * 16) is not None
    assert (
        json.loads(held.read_text())["token"] == json.loads(old_style.read_text())["token"] == "someone-else"
    )
    with Claims(tmp_path) as mine:  # what a runner writes names its start time
        assert mine.acquire("f" * 16) is None
        assert json.loads(mine.path("f" * 16).read_text())["proc_start"] == claims_mod.proc_start(os.getpid())


@has_proc
def test_a_run_that_leaves_jobs_to_another_runner_says_so_and_exits_3(tmp_path, capsys) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text(f'output_dir = "{tmp_path / "out"}"\nseeds = [0, 1]\n' + GRID)
    jobs = plan(load_config(grid), plugins.get_registry())
    _claim(Claims(tmp_path / "out"), jobs[1].key, os.getpid(), proc_start=claims_mod.proc_start(os.getpid()))
    assert main(["run", str(grid), "--no-progress"]) == 3  # was 0
    err = capsys.readouterr().err
    assert "1 jobs are being run by another runner" in err
    assert "incomplete: 1 of 2 jobs were left to another runner and are not in this run's results" in err
    Claims(tmp_path / "out").path(jobs[1].key).unlink()  # the other runner is gone: the next run completes
    assert main(["run", str(grid), "--no-progress"]) == 0
    assert "incomplete" not in capsys.readouterr().err


# -- item 4: grid files that are not text, not a mapping, or no file at all -----------------------


def test_grid_files_of_every_wrong_kind_fail_in_one_line(tmp_path, capsys) -> None:
    utf16 = tmp_path / "grid.toml"
    utf16.write_bytes(b"\xff\xfe\x00b")
    for command in ("validate", "run"):  # run too, before any output is made
        one_line_error(capsys, 2, [command, str(utf16)], "not UTF-8 text (it looks like UTF-16)")
    assert not (tmp_path / "results").exists()
    for name, text, says in (
        ("list.yaml", "- a\n- b\n", "the top level must be a table/mapping of settings"),
        ("empty.yaml", "", "got nothing (an empty file)"),
        ("str.json", '"grid"', "got a str"),
        ("deep.json", "[" * 100000 + "]" * 100000, "cannot parse (RecursionError"),
        ("seed.toml", 'seeds = ["1"]\n' + GRID, "seeds.0: Input should be a valid integer"),
        ("flag.toml", "seeds = [true]\n" + GRID, "seeds.0: Input should be a valid integer"),
    ):
        (tmp_path / name).write_text(text)
        one_line_error(capsys, 2, ["validate", str(tmp_path / name)], says)
    big = tmp_path / "big.toml"
    with big.open("wb") as fh:
        fh.truncate(17 * 2**20)  # sparse: a data file passed by mistake
    one_line_error(capsys, 2, ["validate", str(big)], "too large for a config file")


def test_a_pipe_or_device_as_grid_file_fails_instead_of_blocking(tmp_path) -> None:
    fifo = tmp_path / "grid.toml"
    os.mkfifo(fifo)
    paths = [fifo] + ([Path("/dev/zero")] if Path("/dev/zero").exists() else [])
    for path in paths:  # were: blocked for ever on the pipe; read /dev/zero until memory ran out
        proc = subprocess.run(
            [sys.executable, "-m", "omniad", "validate", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1, proc.stderr
        assert f"{path} is not a regular file" in lines[0]
    with pytest.raises(ConfigError, match="not a regular file"):
        load_config(fifo)


# -- item 6: what the seeds vary is said where it may surprise ------------------------------------


def test_several_seeds_over_a_fixed_split_are_named_and_run_seeds_show_in_the_results(
    tmp_path, capsys
) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text(f'output_dir = "{tmp_path / "out"}"\nseeds = [0, 1]\n' + GRID)
    assert main(["validate", str(grid)]) == 0
    err = capsys.readouterr().err
    assert "note: seeds [0, 1] reseed the detectors only:" in err and "(seed=0) keep one split" in err
    assert "split_seed = 'run'" in err
    grid.write_text(f'output_dir = "{tmp_path / "out"}"\nseeds = [0, 1]\nsplit_seed = "run"\n' + GRID)
    assert main(["validate", str(grid)]) == 0
    assert "note:" not in capsys.readouterr().err
    result = run(load_config(grid), progress=False, log=lambda msg: None)
    assert sorted((r["seed"], r["dataset"]["params"]["seed"]) for r in result.records) == [(0, 0), (1, 1)]
    assert {r["dataset"]["label"] for r in result.records} == {
        "core.blobs(n_test_anomalous=4,n_test_normal=10,n_train=30,seed=run)"
    }
    md = (tmp_path / "out" / "results.md").read_text()
    assert "`seed` = varies: 0, 1" in md  # the split seeds the report averaged over
