"""The runtime under abuse: plugins and jobs that end the process, scores that are not numbers,
a killed process worker, missing optional dependencies, split seeds, progress, data notes and
exit codes."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import warnings
from pathlib import Path

import pytest

from omniad import plugins
from omniad.cli import main
from omniad.errors import ConfigError
from omniad.progress import ProgressEvent
from omniad.runner import ResultStore, parse_config, plan, run
from omniad.runner import view as view_mod
from omniad.runner.claims import pid_alive
from omniad.runner.demo import demo_config
from omniad.testing.processes import installed
from omniad.testing.processes import run_omniad as omniad

SMALL = {"n_train": 30, "n_test_normal": 10, "n_test_anomalous": 4}

RT = """
import os, signal, time, warnings
import numpy as np
from omniad import Dataset, Detector, Scores, Split, Subset, hookimpl


def _log(seed):
    log = os.environ.get("OMNIAD_TEST_LOG")
    if log:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        os.write(fd, f"{os.getpid()} {seed}\\n".encode())
        os.close(fd)


class Exits(Detector):
    # logs each fit; kills the process for OMNIAD_TEST_EXIT_SEED; waits for OMNIAD_TEST_RELEASE if set
    def _fit(self, samples):
        _log(self.seed)
        if self.seed == int(os.environ.get("OMNIAD_TEST_EXIT_SEED", "-1")):
            os.kill(os.getpid(), signal.SIGKILL)  # what no Python code can catch (os._exit is caught now)
        release = os.environ.get("OMNIAD_TEST_RELEASE")
        deadline = time.monotonic() + 600
        while release and not os.path.exists(release) and time.monotonic() < deadline:
            time.sleep(0.05)

    def _score(self, samples):
        return Scores(sample=np.linspace(0.0, 1.0, len(samples)))


class Strings(Detector):
    def _fit(self, samples):
        pass

    def _score(self, samples):
        return [f"s{i}" for i in range(len(samples))]


class StringScores(Detector):
    def _fit(self, samples):
        pass

    def _score(self, samples):
        return Scores(sample=np.array(["high"] * len(samples)))


class Epochs(Detector):
    def _fit(self, samples):
        for epoch in range(1, 6):
            self.report_progress(epoch, 5, "epochs")
            warnings.warn("learning rate is high", RuntimeWarning)

    def _score(self, samples):
        return Scores(sample=np.linspace(0.0, 1.0, len(samples)))


class Noisy(Dataset):
    # two subsets; the loader warns once per subset and records what it repaired
    def iter_subsets(self):
        rng = np.random.default_rng(0)
        for i in range(2):
            warnings.warn(f"part{i}: 2 rows had NaN and were dropped", UserWarning)
            train = Split(samples=rng.normal(size=(20, 2)))
            test = Split(samples=np.r_[rng.normal(size=(8, 2)), rng.normal(6, 1, size=(4, 2))],
                         labels=np.r_[np.zeros(8), np.ones(4)].astype(int))
            counts = {"dropped_rows": 2, "clipped": 5 if i == 0 else 0, "flag": True, "share": 0.5}
            yield Subset(name=f"part{i}", train=train, test=test, meta={"counts": counts})


@hookimpl
def omniad_register_detectors(registry):
    for name in ("Exits", "Strings", "StringScores", "Epochs"):
        registry.add(id=f"rt.{name.lower()}", target=f"fake_omniad_rt:{name}", modality="tabular", summary=name)


@hookimpl
def omniad_register_datasets(registry):
    registry.add(id="rt.noisy", target="fake_omniad_rt:Noisy", modality="tabular", summary="warns")
"""


def config(out: Path, detectors, seeds=(0,), datasets=None, **extra):
    return parse_config({
        "output_dir": str(out),
        "detectors": detectors,
        "datasets": datasets or [{"id": "core.blobs", "params": SMALL}],
        "metrics": ["core.auroc"],
        "seeds": list(seeds),
        "examples": 0,
        **extra,
    })


def fits(log: Path) -> list[tuple[int, int]]:
    if not log.is_file():
        return []
    return [(int(a), int(b)) for a, b in (line.split() for line in log.read_text().splitlines())]


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


# -- 1. a plugin or a job that ends the process is named by the next one --------------------------

@pytest.mark.parametrize(("where", "step"), [("import", "importing"), ("hook", "registering")])
def test_a_plugin_that_ends_the_process_is_named_next_time(tmp_path, where: str, step: str) -> None:
    kill = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"
    source = kill if where == "import" else (
        "import os, signal\nfrom omniad import hookimpl\n\n@hookimpl\ndef omniad_register_detectors(registry):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n")
    env = installed(tmp_path, "deadly", source)
    first = omniad("list", env=env)
    assert first.returncode == -signal.SIGKILL and not first.stdout and not first.stderr  # nothing can be said
    second = omniad("list", env=env)  # names it, test-loads it alone in a child, which dies: left out
    assert second.returncode == 0 and "core.knn" in second.stdout
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 2, second.stderr
    assert (f"while {step} plugin 'deadly' (fake_omniad_deadly)" in lines[0]
            and "OMNIAD_DISABLE_PLUGINS=deadly" in lines[0]), lines
    assert ("plugin 'deadly' failed" in lines[1] and "killed by signal 9 (SIGKILL)" in lines[1]
            and "OMNIAD_DISABLE_PLUGINS=deadly" in lines[1]), lines
    disabled = omniad("list", env={**env, "OMNIAD_DISABLE_PLUGINS": "deadly"})
    assert disabled.returncode == 0 and "'deadly'" in disabled.stderr  # the test load's death, reported once
    quiet = omniad("list", env={**env, "OMNIAD_DISABLE_PLUGINS": "deadly"})
    assert quiet.returncode == 0 and "deadly" not in quiet.stderr
    assert not list((tmp_path / "cache" / "loading").glob("*.json"))


def test_a_job_that_ends_an_inline_runner_is_named_retried_once_then_failed(tmp_path) -> None:
    log = tmp_path / "fits.log"
    env = installed(tmp_path, "rt", RT, OMNIAD_TEST_LOG=str(log), OMNIAD_TEST_EXIT_SEED="1")
    grid = tmp_path / "grid.toml"
    out = tmp_path / "out"
    grid.write_text(
        f'output_dir = "{out}"\nseeds = [0, 1, 2]\nexamples = 0\nmetrics = ["core.auroc"]\n'
        '[[detectors]]\nid = "rt.exits"\n'
        '[[datasets]]\nid = "core.blobs"\nparams = { n_train = 30, n_test_normal = 10, n_test_anomalous = 4 }\n'
    )
    first = omniad("run", str(grid), "--no-progress", env=env)
    assert first.returncode == -signal.SIGKILL
    assert {r["seed"] for r in ResultStore(out).records()} == {0}
    assert len(list((out / "claims").glob("*.json"))) == 1  # the dead runner's claim on seed 1 is left

    second = omniad("run", str(grid), "--no-progress", env=env)
    assert second.returncode == -signal.SIGKILL  # it ended this runner too, but only after seed 2 ran
    assert "rt.exits on core.blobs" in second.stderr and "(seed 1)" in second.stderr
    assert "running it once more, after the other jobs" in second.stderr
    assert [seed for _, seed in fits(log)] == [0, 1, 2, 1]  # the stale claim was taken over: seed 1 ran again
    assert {r["seed"] for r in ResultStore(out).records()} == {0, 2}

    third = omniad("run", str(grid), "--no-progress", env=env)
    assert third.returncode == 0, third.stderr
    assert "recorded as failed and left out of this run" in third.stderr
    assert [seed for _, seed in fits(log)] == [0, 1, 2, 1]  # not run a third time
    by_seed = {r["seed"]: r for r in ResultStore(out).records()}
    assert by_seed[1]["status"] == "failed" and "ended the runner process 2 times" in by_seed[1]["error"]
    assert not list((out / "claims").glob("*.json")) and not list((out / "running").glob("*.json"))

    fixed = omniad("run", str(grid), "--no-progress", env={**env, "OMNIAD_TEST_EXIT_SEED": "-1"})
    assert fixed.returncode == 0 and "ended the runner" not in fixed.stderr
    assert {r["seed"]: r["status"] for r in ResultStore(out).records()} == {0: "ok", 1: "ok", 2: "ok"}


def test_a_runner_stopped_by_ctrl_c_leaves_no_crash_mark(tmp_path, make_plugin) -> None:
    make_plugin("ctrlc", "import numpy as np\nfrom omniad import Detector, hookimpl\n\nclass Stop(Detector):\n"
                "    def _fit(self, samples):\n        raise KeyboardInterrupt\n    def _score(self, samples):\n"
                "        raise AssertionError\n\n@hookimpl\ndef omniad_register_detectors(registry):\n"
                "    registry.add(id='ctrlc.stop', target='fake_omniad_ctrlc:Stop', modality='tabular', summary='s')\n")
    with pytest.raises(KeyboardInterrupt):
        run(config(tmp_path / "out", [{"id": "ctrlc.stop"}]), progress=False)
    assert not list((tmp_path / "out" / "running").glob("*.json"))


# -- 2. scores that are not numbers name their detector and plugin ---------------------------------

@pytest.mark.parametrize(("detector", "given"), [
    ("rt.strings", "a numpy array of dtype <U3, shape (14,): ['s0', 's1', 's2']"),
    ("rt.stringscores", "a numpy array of dtype <U4, shape (14,): ['high', 'high', 'high']"),
])
def test_scores_that_are_strings_name_the_detector_and_plugin(tmp_path, make_plugin, detector, given) -> None:
    make_plugin("rt", RT)
    record = run(config(tmp_path / "out", [{"id": detector}]), progress=False).records[0]
    assert record["status"] == "failed"
    error = record["subsets"][0]["error"]
    assert error.startswith(f"detector {detector!r} (plugin rt): score() returned {given}"), error
    assert "could not convert" not in error


# -- 3. a killed process worker fails its own job only --------------------------------------------

def test_killing_one_process_worker_fails_only_its_job(tmp_path, make_plugin, monkeypatch) -> None:
    make_plugin("rt", RT)
    log, release = tmp_path / "fits.log", tmp_path / "release"
    monkeypatch.setenv("OMNIAD_TEST_LOG", str(log))
    monkeypatch.setenv("OMNIAD_TEST_RELEASE", str(release))  # every fit waits for this file
    out = tmp_path / "out"
    cfg = config(out, [{"id": "rt.exits"}], seeds=range(4), executor="process", workers=2)
    plugins.get_registry()
    results, errors = [], []

    def runner() -> None:
        try:
            results.append(run(cfg, progress=False))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    thread = threading.Thread(target=runner)
    thread.start()
    victim = None
    try:
        wait_for(lambda: len(fits(log)) >= 2, 300, "two workers in fit")
        victim = next(pid for pid, seed in fits(log) if seed == 0)
        os.kill(victim, signal.SIGKILL)
        # the dead worker's record is written while the other worker still waits in its fit
        wait_for(lambda: any(r["seed"] == 0 for r in ResultStore(out).records()), 300, "the victim's record")
    finally:
        release.touch()
        thread.join(600)
    assert not thread.is_alive() and not errors, errors
    by_seed = {r["seed"]: r for r in results[0].records}
    assert {s: r["status"] for s, r in by_seed.items()} == {0: "failed", 1: "ok", 2: "ok", 3: "ok"}
    assert f"worker process died (pid {victim}, killed by signal 9 (SIGKILL))" in by_seed[0]["error"]
    assert sorted(seed for _, seed in fits(log)) == [0, 1, 2, 3]  # the survivor's job ran once, to the end
    assert not pid_alive(victim)


# -- 4. missing optional dependencies are found when the grid is planned --------------------------

NEEDS = """
from omniad import Detector, Scores, hookimpl
from omniad.params import Params


class OnnxParams(Params):
    backend: str = "numpy"

    def omniad_requires(self):
        return {"omniad_test_no_onnx": "omniad-test-onnx[runtime]"} if self.backend == "onnx" else {}


class Needs(Detector):
    Params = OnnxParams

    def _fit(self, samples):
        pass

    def _score(self, samples):
        return Scores(sample=[0.0] * len(samples))


@hookimpl
def omniad_register_detectors(registry):
    registry.add(id="needs.wheel", target="fake_omniad_needs:Needs", modality="tabular", summary="w",
                 requires=("omniad_test_no_wheel",), install={"omniad_test_no_wheel": "omniad-test-wheel[big]"},
                 demo=True)
    registry.add(id="needs.sklearnish", target="fake_omniad_needs:Needs", modality="tabular", summary="s",
                 requires=("sklearn", "omniad_test_no_skl"))
    registry.add(id="needs.params", target="fake_omniad_needs:Needs", params="fake_omniad_needs:OnnxParams",
                 modality="tabular", summary="p")
    registry.add(id="needs.images", target="fake_omniad_needs:Needs", modality="vision", summary="v",
                 requires=("omniad_test_no_wheel",))
"""


def test_missing_dependencies_fail_the_plan_one_line_per_component(tmp_path, make_plugin) -> None:
    make_plugin("needs", NEEDS)
    cfg = config(tmp_path / "out", [
        {"id": "needs.wheel", "grid": {}}, {"id": "needs.sklearnish"}, {"id": "needs.params"},
        {"id": "needs.params", "params": {"backend": "onnx"}}, {"id": "needs.images"}, {"id": "core.knn"},
    ], seeds=[0, 1])
    with pytest.raises(ConfigError) as info:
        plan(cfg, plugins.get_registry())
    lines = [line.strip("- ") for line in str(info.value).splitlines()[1:]]
    assert lines == [
        "detector 'needs.wheel' (plugin needs) needs omniad_test_no_wheel, which is not installed; "
        "pip install 'omniad-test-wheel[big]'",
        "detector 'needs.sklearnish' (plugin needs) needs omniad_test_no_skl, which is not installed; "
        "pip install omniad_test_no_skl",
        "detector 'needs.params' (plugin needs) needs omniad_test_no_onnx, which is not installed; "
        "pip install 'omniad-test-onnx[runtime]'",
    ]  # one line per component (not per seed); needs.images pairs with no dataset, so it is not planned


def test_validate_reports_missing_dependencies_and_run_runs_nothing(tmp_path) -> None:
    env = installed(tmp_path, "needs", NEEDS)
    grid = tmp_path / "grid.toml"
    grid.write_text(f'output_dir = "{tmp_path / "out"}"\n[[detectors]]\nid = "needs.wheel"\n'
                    '[[datasets]]\nid = "core.blobs"\n')
    for command in ("validate", "run"):
        proc = omniad(command, str(grid), env=env)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert "pip install 'omniad-test-wheel[big]'" in proc.stderr
    assert not (tmp_path / "out" / "jobs").exists()


def test_the_demo_leaves_out_what_cannot_run_and_says_so(tmp_path, make_plugin, capsys, monkeypatch) -> None:
    make_plugin("needs", NEEDS)
    monkeypatch.setenv("OMNIAD_LOAD_PLUGINS", "needs")
    plugins.reset()
    notes: list[str] = []
    cfg = demo_config(plugins.get_registry(), tmp_path / "demo", notes=notes)
    assert "needs.wheel" not in {d.id for d in cfg.detectors} and "core.knn" in {d.id for d in cfg.detectors}
    assert notes == ["left out of the demo: detector 'needs.wheel' (plugin needs) needs omniad_test_no_wheel, "
                     "which is not installed; pip install 'omniad-test-wheel[big]'"]
    assert main(["demo", "--output-dir", str(tmp_path / "demo"), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "note: left out of the demo: detector 'needs.wheel'" in err


# -- 5. split seeds: fixed by default, tied to the run's seeds on request --------------------------

def test_split_seed_run_ties_each_datasets_split_to_the_jobs_seed(tmp_path) -> None:
    registry = plugins.get_registry()
    fixed = plan(config(tmp_path / "a", [{"id": "core.knn"}], seeds=[0, 1, 2]), registry)
    assert [j.dataset.params["seed"] for j in fixed] == [0, 0, 0]
    assert {j.dataset.label for j in fixed} == {"core.blobs(n_test_anomalous=4,n_test_normal=10,n_train=30)"}

    cfg = config(tmp_path / "b", [{"id": "core.knn"}], seeds=[0, 1, 2], split_seed="run")
    jobs = plan(cfg, registry)
    assert [(j.seed, j.dataset.params["seed"]) for j in jobs] == [(0, 0), (1, 1), (2, 2)]
    assert {j.dataset.label for j in jobs} == {"core.blobs(n_test_anomalous=4,n_test_normal=10,n_train=30,seed=run)"}
    assert len({j.key for j in jobs}) == 3 and jobs[0].key == fixed[0].key  # seed 0 is the same experiment
    result = run(cfg, progress=False)
    seeds = {r["seed"]: r["dataset"]["params"]["seed"] for r in result.records}
    assert seeds == {0: 0, 1: 1, 2: 2}
    aucs = {r["metrics"]["core.auroc"] for r in result.records}
    assert len(aucs) == 3  # three different draws, not one split three times
    md = (tmp_path / "b" / "results.md").read_text()
    assert md.count("seed=run") == 1 and "±" in md  # one table, averaged over the three seeds

    named = plan(config(tmp_path / "c", [{"id": "core.knn"}], seeds=[3],
                        datasets=[{"id": "core.blobs", "name": "blobs"}], split_seed="run"), registry)
    assert named[0].dataset.label == "blobs(seed=run)" and named[0].dataset.params["seed"] == 3


def test_split_seed_run_refuses_a_seed_set_by_hand(tmp_path) -> None:
    cfg = config(tmp_path, [{"id": "core.knn"}], datasets=[{"id": "core.blobs", "params": {"seed": 4}}],
                 split_seed="run")
    with pytest.raises(ConfigError, match="params set seed = 4 but split_seed = 'run'"):
        plan(cfg, plugins.get_registry())
    with pytest.raises(ConfigError, match="split_seed"):
        config(tmp_path, [{"id": "core.knn"}], split_seed="per-job")


def test_a_card_naming_a_split_seed_parameter_it_lacks_is_refused(tmp_path, make_plugin) -> None:
    make_plugin("cards", "from omniad import hookimpl\n\n@hookimpl\ndef omniad_register_datasets(registry):\n"
                "    registry.add(id='cards.blobs', target='omniad.builtins.tabular_data:Blobs', modality='tabular',\n"
                "                 params='omniad.builtins.tabular_data:BlobsParams', summary='b',\n"
                "                 split_seed_param='split_seed')\n")
    cfg = config(tmp_path, [{"id": "core.knn"}], datasets=[{"id": "cards.blobs"}], split_seed="run")
    with pytest.raises(ConfigError, match="split_seed_param 'split_seed' is not one of its parameters"):
        plan(cfg, plugins.get_registry())


def test_every_dataset_with_a_seed_parameter_names_it(tmp_path) -> None:
    for entry in plugins.get_registry().list("dataset"):
        if "seed" in entry.params_model().model_fields:
            assert getattr(entry.card, "split_seed_param", None) == "seed", entry.id


# -- 6. progress: subsets and epochs reach the display, inline and from workers --------------------

@pytest.mark.parametrize("executor", ["inline", "process"])
def test_progress_of_a_long_fit_is_shown(tmp_path, make_plugin, monkeypatch, executor: str) -> None:
    make_plugin("rt", RT)
    monkeypatch.setattr(view_mod, "PLAIN_EVERY_S", 0.0)  # every event becomes a line here
    said: list[str] = []
    cfg = config(tmp_path / "out", [{"id": "rt.epochs"}], executor=executor)
    result = run(cfg, progress=True, log=said.append)  # stderr is no terminal under pytest: plain lines
    assert result.records[0]["status"] == "ok"
    running = [line for line in said if "running" in line]
    last = "[0/1] running rt.epochs on core.blobs(n_test_anomalous=4,n_test_normal=10,n_train=30) (seed 0): "
    assert last + "epochs 5/5, subset 1" in running, said
    if executor == "inline":  # workers pass events on at most every 0.5 s; inline sees each one
        assert [line.split(": ")[-1] for line in running] == [
            "subset 1", *(f"epochs {i}/5, subset 1" for i in range(1, 6))]


def test_the_progress_bar_names_the_step_in_flight(tmp_path) -> None:
    job = plan(config(tmp_path, [{"id": "core.knn"}]), plugins.get_registry())[0]
    view = view_mod.ProgressView(True, 1, lambda line: None)
    try:
        view.started(job)
        view.progressed(job, ProgressEvent("job", 2, 28, "subsets"))
        time.sleep(view_mod.BAR_EVERY_S)
        view.progressed(job, ProgressEvent("detector core.knn", 3, 50, "epochs"))
        current = view.bar.tasks[0].fields["current"]
    finally:
        view.stop()
    assert current.endswith("(seed 0): epochs 3/50, subset 2/28")


# -- 7. data notes: loader counts and warnings in the records -------------------------------------

def test_counts_and_warnings_are_recorded_per_subset_and_summed(tmp_path, make_plugin) -> None:
    make_plugin("rt", RT)
    filters, show = list(warnings.filters), warnings.showwarning
    cfg = config(tmp_path / "out", [{"id": "rt.epochs"}], datasets=[{"id": "rt.noisy"}])
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("default")  # Python's default: a warning shown once per line (per subset here)
        record = run(cfg, progress=False).records[0]
        warnings.simplefilter("always")
        again = run(cfg.model_copy(update={"output_dir": tmp_path / "always"}), progress=False).records[0]
        warnings.simplefilter("ignore", RuntimeWarning)  # what the filters ignore is no note either
        quiet = run(cfg.model_copy(update={"output_dir": tmp_path / "quiet"}), progress=False).records[0]
    # recorded and still shown, as without a capture: 2 + 10 + 0 times the detector's warning
    assert sum("learning rate" in str(w.message) for w in shown) == 12
    assert sum("part1: 2 rows" in str(w.message) for w in shown) == 3
    assert record["status"] == "ok"
    first, second = record["subsets"]
    assert first["counts"] == {"dropped_rows": 2, "clipped": 5} and second["counts"] == {"dropped_rows": 2}
    assert first["warnings"] == ["UserWarning: part0: 2 rows had NaN and were dropped",
                                 "RuntimeWarning: learning rate is high"]
    assert again["subsets"][0]["warnings"][1] == "RuntimeWarning: learning rate is high (x5)"
    assert quiet["subsets"][0]["warnings"] == ["UserWarning: part0: 2 rows had NaN and were dropped"]
    assert record["data_notes"] == (
        "clipped 5 (1 of 2 subsets), dropped_rows 4 (every subset); warnings: UserWarning: part0: 2 rows had "
        "NaN and were dropped (1 of 2 subsets); RuntimeWarning: learning rate is high (every subset); "
        "UserWarning: part1: 2 rows had NaN and were dropped (1 of 2 subsets)")
    assert list(warnings.filters) == filters and warnings.showwarning is show  # nothing leaks


def test_warnings_of_concurrent_runners_stay_apart(tmp_path, make_plugin) -> None:
    from omniad.runner.notes import capture_warnings

    filters, show = list(warnings.filters), warnings.showwarning
    got: dict[str, list[str]] = {}
    both_inside = threading.Barrier(2, timeout=120)

    def job(name: str) -> None:
        with capture_warnings() as caught:
            both_inside.wait()
            warnings.warn(f"from {name}", UserWarning, stacklevel=1)
            both_inside.wait()
        got[name] = caught

    threads = [threading.Thread(target=job, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert got == {"a": ["UserWarning: from a"], "b": ["UserWarning: from b"]}
    assert list(warnings.filters) == filters and warnings.showwarning is show


# -- 8. exit codes ------------------------------------------------------------------------------

def test_a_run_where_every_job_failed_exits_1(tmp_path, make_plugin, capsys) -> None:
    make_plugin("rt", RT)
    grid = tmp_path / "grid.json"

    def write(detectors: list[str]) -> str:
        grid.write_text(json.dumps({"output_dir": str(tmp_path / "out"), "detectors": [{"id": d} for d in detectors],
                                    "datasets": [{"id": "core.blobs", "params": SMALL}], "examples": 0}))
        return str(grid)

    assert main(["run", write(["rt.strings"]), "--no-progress"]) == 1
    assert "error: none of the 1 jobs produced a result (1 failed, 0 skipped)" in capsys.readouterr().err
    assert main(["run", write(["rt.strings", "core.knn"]), "--no-progress"]) == 0
    assert main(["run", write(["rt.strings", "core.knn"]), "--no-progress", "--fail-on-error"]) == 1
    assert main(["run", write(["core.knn"]), "--no-progress", "--fail-on-error"]) == 0



def test_cpu_threads_beyond_the_cores_are_lowered_with_a_warning() -> None:
    """``cpu_threads=10**9`` (a hand-edited saved parameter) aborted the process inside libgomp."""
    torch = pytest.importorskip("torch")
    from omniad.device import torch_cpu_threads

    before = torch.get_num_threads()
    lowered = pytest.warns(UserWarning, match=r"cpu_threads=1000000000 lowered to the \d+ CPU cores")
    with lowered, torch_cpu_threads(10**9, "cpu"):
        assert torch.get_num_threads() <= (os.cpu_count() or 1)
    assert torch.get_num_threads() == before
