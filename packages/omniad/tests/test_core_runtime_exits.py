"""Second pass over the runtime under abuse: ``os._exit`` in a plugin's import or hook and in a
detector's fit is caught and named by the same process; scores are checked at the runner's
boundary (whatever the plugin overrode) and name detector, plugin and distribution; long fits
report progress inside an epoch."""

from __future__ import annotations

import multiprocessing
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from omniad import crashmarks, progress
from omniad.progress import ProgressEvent
from omniad.runner import ResultStore, parse_config, run
from omniad.testing.processes import installed
from omniad.testing.processes import run_omniad as omniad

SMALL = {"n_train": 30, "n_test_normal": 10, "n_test_anomalous": 4}


def config(out: Path, detectors, **extra):
    return parse_config(
        {
            "output_dir": str(out),
            "detectors": detectors,
            "metrics": ["core.auroc"],
            "datasets": [{"id": "core.blobs", "params": SMALL}],
            "examples": 0,
            **extra,
        }
    )


EXITS = """
import os
import numpy as np
from omniad import Detector, Scores, hookimpl


class Base(Detector):
    def _fit(self, samples):
        if self.seed == int(os.environ.get("OMNIAD_TEST_EXIT_SEED", "-1")):
            os._exit(7)

    def _score(self, samples):
        return Scores(sample=np.linspace(0.0, 1.0, len(samples)))


class Short(Base):
    def _score(self, samples):
        return np.zeros(len(samples) - 1)


class NaNs(Base):
    def _score(self, samples):
        return np.full(len(samples), np.nan)


class Raw(Base):  # overrides score() itself, so the base class checks nothing
    def score(self, samples):
        return ["x"] * len(samples)


class RawShort(Base):
    def score(self, samples):
        return np.zeros(3)


@hookimpl
def omniad_register_detectors(registry):
    for name in ("Base", "Short", "NaNs", "Raw", "RawShort"):
        registry.add(id=f"ex.{name.lower()}", target=f"fake_omniad_ex:{name}", modality="tabular", summary=name)
"""


@pytest.mark.parametrize("where", ["import", "hook"])
def test_a_plugin_calling_os_exit_is_named_by_the_same_process(tmp_path, where: str) -> None:
    source = (
        "import os\nos._exit(7)\n"
        if where == "import"
        else (
            "import os\nfrom omniad import hookimpl\n\n@hookimpl\ndef omniad_register_detectors(registry):\n"
            "    os._exit(7)\n"
        )
    )
    env = installed(tmp_path, "deadly", source)
    listed = omniad("list", env=env)
    assert listed.returncode == 0, listed.stderr  # was: exit 7, nothing on stdout or stderr
    assert "core.knn" in listed.stdout
    assert "plugin 'deadly' failed" in listed.stderr and "os._exit(7)" in listed.stderr, listed.stderr
    assert not list((tmp_path / "cache" / "loading").glob("*.json"))


def test_os_exit_raises_only_in_the_guarded_thread_of_the_guarding_process() -> None:
    ended: list[int | None] = []

    def other_thread() -> None:  # a worker's parent watch must still end its process: not guarded here
        ended.append((os.getpid(), threading.get_ident()) in crashmarks._guarded)

    with crashmarks.exits_raise():
        with pytest.raises(crashmarks.ExitCalled, match=r"os\._exit\(3\)"):
            os._exit(3)
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        child = multiprocessing.get_context("fork").Process(target=os._exit, args=(5,))
        child.start()  # forked from the guarded thread: its os._exit must end it, not raise
        child.join(120)
    assert ended == [False] and child.exitcode == 5
    assert (os.getpid(), threading.get_ident()) not in crashmarks._guarded


def test_a_detector_calling_os_exit_in_fit_fails_its_job_and_the_run_goes_on(tmp_path, monkeypatch) -> None:
    env = installed(tmp_path, "ex", EXITS, OMNIAD_TEST_EXIT_SEED="1")
    grid = tmp_path / "grid.toml"
    out = tmp_path / "out"
    grid.write_text(
        f'output_dir = "{out}"\nseeds = [0, 1, 2]\nexamples = 0\nmetrics = ["core.auroc"]\n'
        '[[detectors]]\nid = "ex.base"\n'
        '[[datasets]]\nid = "core.blobs"\nparams = { n_train = 30, n_test_normal = 10, n_test_anomalous = 4 }\n'
    )
    proc = omniad("run", str(grid), "--no-progress", env=env)
    assert proc.returncode == 0, proc.stderr  # was: the runner ended with exit code 7, without a word
    by_seed = {r["seed"]: r for r in ResultStore(out).records()}
    assert {s: r["status"] for s, r in by_seed.items()} == {0: "ok", 1: "failed", 2: "ok"}
    assert by_seed[1]["error"].startswith(
        "all 1 subsets failed; first: detector 'ex.base' (plugin ex): os._exit(7) was called"
    ), by_seed[1]["error"]
    assert "fake-omniad-ex 1.0" in by_seed[1]["error"]
    assert not list((out / "claims").glob("*.json")) and not list((out / "running").glob("*.json"))


@pytest.mark.parametrize(
    ("detector", "problem"),
    [
        ("ex.short", "score(): returned 13 sample scores for 14 samples"),
        ("ex.nans", "score(): sample score of #0 is nan (14 non-finite in total)"),
        ("ex.raw", "score() returned a list of 14 str: ['x', 'x', 'x', ...] for Scores.sample"),
        ("ex.rawshort", "score(): returned 3 sample scores for 14 samples"),
    ],
)
def test_scores_are_checked_at_the_runner_boundary_naming_their_distribution(
    tmp_path, make_plugin, detector: str, problem: str
) -> None:
    make_plugin("ex", EXITS)
    record = run(config(tmp_path / "out", [{"id": detector}]), progress=False).records[0]
    assert record["status"] == "failed"
    error = record["subsets"][0]["error"]
    assert error.startswith(f"detector {detector!r} (plugin ex): {problem}"), error
    assert error.endswith("(detector from fake-omniad-ex 1.2.3)"), error


# -- progress inside an epoch ----------------------------------------------------------------------


def test_progress_steps_nest_and_the_view_shows_each_level(tmp_path) -> None:
    from omniad import plugins
    from omniad.runner import plan
    from omniad.runner import view as view_mod

    caught: list[ProgressEvent] = []
    with progress.listening(caught.append):
        for _epoch in progress.steps(range(2), "epochs", where="detector d"):
            for _ in progress.steps(range(3), "batches", where="detector d"):
                pass
    assert [(e.where, e.what, e.done, e.total) for e in caught] == [
        *(("detector d", "batches", i, 3) for i in (1, 2, 3)),
        ("detector d", "epochs", 1, 2),
        *(("detector d", "batches", i, 3) for i in (1, 2, 3)),
        ("detector d", "epochs", 2, 2),
    ]
    progress.report("x", 1, 2)  # no listener: nothing, no error

    job = plan(
        config(tmp_path, [{"id": "core.knn"}], datasets=[{"id": "core.blobs", "params": SMALL}]),
        plugins.get_registry(),
    )[0]
    view = view_mod.ProgressView(False, 1, lambda line: None)
    view.flight[job.key] = view_mod._InFlight("job")
    view.progressed(job, ProgressEvent("job", 2, 28, "subsets"))
    view.progressed(job, ProgressEvent("detector d", 3, 50, "epochs"))
    view.progressed(job, ProgressEvent("detector d", 120, 400, "batches"))
    assert view.flight[job.key].describe() == "job: batches 120/400 of epochs 3/50, subset 2/28"
    view.progressed(job, ProgressEvent("detector d", 4, 50, "epochs"))  # a new epoch: its batches start over
    assert view.flight[job.key].describe() == "job: epochs 4/50, subset 2/28"


def test_the_torch_training_loop_reports_batches_within_epochs() -> None:
    torch = pytest.importorskip("torch")
    from omniad_timeseries.detectors.neural.training import WindowSet, fit_loop

    net = torch.nn.Linear(4, 1)
    windows = WindowSet([np.arange(40, dtype=np.float64)[:, None]], 4, "cpu")
    caught: list[ProgressEvent] = []
    with progress.listening(caught.append):
        fit_loop(
            net,
            windows,
            None,
            lambda batch, epoch: net(batch[..., 0]).pow(2).mean(),
            torch.optim.SGD(net.parameters(), lr=0.01),
            None,
            epochs=2,
            batch_size=16,
            patience=1,
            where="detector t",
            progress=lambda done, total, what="epochs": progress.report("detector t", done, total, what),
        )
    batches = [(e.done, e.total) for e in caught if e.what == "batches"]
    epochs = [(e.done, e.total) for e in caught if e.what == "epochs"]
    assert batches == [(1, 3), (2, 3), (3, 3)] * 2 and epochs == [(1, 2), (2, 2)]
    assert {e.where for e in caught} == {"detector t"}
