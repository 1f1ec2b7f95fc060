"""The shared runner: plan the grid, skip finished jobs, execute, store, report.

With the inline executor a job runs inside the runner's process, so a job that ends it
outright (``os._exit``, a segfault, the OOM killer) leaves no record and no message. A
crash mark (``<output>/running/<host>-<pid>-<thread>.json``) names the job in flight; the
next run on the directory says which job it was and runs it once more, after the others.
A job that ended the runner twice in a row is recorded as failed with that explanation
and left out of that run (a later run retries it, as any failed job).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omniad.crashmarks import CrashMark
from omniad.registry import Registry
from omniad.runner import report
from omniad.runner.claims import Claims, Owner
from omniad.runner.config import RunConfig
from omniad.runner.execute import failed_record
from omniad.runner.executors import make_executor
from omniad.runner.jobs import Job, plan, seed_notes
from omniad.runner.store import RecordProblem, ResultStore
from omniad.runner.view import ProgressView, job_label

#: how many runners a job may end before it is recorded as failed instead of being run again
MAX_RUNNER_DEATHS = 2


@dataclass
class RunResult:
    output_dir: Path
    jobs: list[Job]
    records: list[dict[str, Any]]
    ran: int
    skipped: int
    outputs: dict[str, Path] = field(default_factory=dict)
    #: jobs left out because another live runner holds their claim, and without a record when this run ended
    elsewhere: int = 0
    #: record files that could not be used (left out of ``records``)
    problems: list[RecordProblem] = field(default_factory=list)

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("status") == "failed"]

    @property
    def no_result(self) -> bool:
        """Every job of the grid failed or was skipped (none is ``ok`` or ``partial``)."""
        return bool(self.records) and not any(r.get("status") in ("ok", "partial") for r in self.records)


def _by_owner(owners: dict[str, Owner]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for owner in owners.values():
        counts[owner.describe()] = counts.get(owner.describe(), 0) + 1
    return sorted(counts.items())


def _runner_deaths(mark: CrashMark, jobs: list[Job], done: dict[str, Any], store: ResultStore,
                   say: Any) -> tuple[dict[str, list[int]], dict[str, dict[str, Any]]]:
    """Jobs earlier runners died in: key -> pids of the runners they ended (to run once more, last),
    and key -> the failed record of those given up on (written once their claim is ours)."""
    by_key = {j.key: j for j in jobs}
    again: dict[str, list[int]] = {}
    given_up: dict[str, dict[str, Any]] = {}
    for dead in mark.dead():
        key = str(dead.get("key"))
        label = dead.get("job") or key
        try:
            if key in done and store.path(key).stat().st_mtime >= float(dead.get("since", 0)):
                continue  # it died after writing the job's record
        except (OSError, ValueError, TypeError):
            pass
        pids = [p for p in [*dead.get("deaths", []), dead.get("pid")] if isinstance(p, int)]
        what = (f"{label} (job {key}) ended the runner (pid {dead.get('pid')}) without a word: the job most "
                "likely ended it (os._exit, a crash in native code, the out-of-memory killer) or the process was killed")
        job = by_key.get(key)
        if job is None:
            say(f"{what}; it is not in this grid")
        elif len(pids) < MAX_RUNNER_DEATHS:
            again[key] = pids
            say(f"{what}; running it once more, after the other jobs")
        else:
            pid_list = ", ".join(str(p) for p in pids)
            given_up[key] = failed_record(job, (
                f"the job ended the runner process {len(pids)} times in a row without a word (pids {pid_list}): "
                "os._exit, a crash in native code, the out-of-memory killer or a kill; run it with "
                "executor = 'process' to see how its process ends"))
            say(f"{what}, for the {len(pids)}th time: recorded as failed and left out of this run "
                "(the next run retries it, as any failed job)")
    return again, given_up


def _labelled(record: dict[str, Any], job: Job) -> dict[str, Any]:
    """A stored record under the labels the config gives its job now (the key is the same experiment)."""
    return {**record, "detector": {**record["detector"], "label": job.detector.label},
            "dataset": {**record["dataset"], "label": job.dataset.label}}


def run(
    config: RunConfig,
    *,
    registry: Registry | None = None,
    progress: bool = True,
    log: Any = None,
) -> RunResult:
    """Run (or resume) the grid described by ``config``; results survive a crash or Ctrl-C.

    Each job is claimed before it starts (see ``claims``), so runners sharing an output
    directory split the grid; jobs another live runner holds are left out of this run.
    """
    from omniad.plugins import get_registry

    registry = registry or get_registry()
    jobs = plan(config, registry)  # every id and parameter checked before any work
    store = ResultStore(config.output_dir)
    store.prepare()  # a bad output_dir fails here, in one line, before any job runs
    say = log or (lambda msg: print(msg, file=sys.stderr))
    for note in seed_notes(config, registry, jobs):
        say(f"note: {note}")
    store.write_manifest({"name": config.name, "config": config.model_dump(mode="json"), "jobs": [j.key for j in jobs]})
    keys = {j.key for j in jobs}
    scan = store.scan()
    for problem in scan.problems:
        if problem.key in keys:
            say(f"cannot use record {problem}; the job will rerun")
    mark = CrashMark(Path(config.output_dir) / "running", tag=str(threading.get_native_id()))
    again, given_up = _runner_deaths(mark, jobs, scan.records, store, say)
    todo = [j for j in jobs if j.key not in given_up and store.needs_run(j, config.rerun, scan.records.get(j.key))]
    todo.sort(key=lambda j: j.key in again)  # a job that ended a runner goes last: the others finish first
    seen = {j.key: store.fingerprint(j.key) for j in todo}
    skipped = len(jobs) - len(todo)
    if skipped:
        say(f"{skipped} of {len(jobs)} jobs already in {config.output_dir}; running {len(todo)}")
    executor = make_executor(config.executor, config.workers, address=config.address, resources=config.resources)
    inline = config.executor == "inline"  # jobs run in this process: one that ends it must be named next time
    ran = 0
    elsewhere: dict[str, Owner] = {}
    done_elsewhere = 0
    view: ProgressView

    def on_start(job: Job) -> None:
        if inline:
            mark.set(key=job.key, job=job_label(job), deaths=again.get(job.key, []))
        view.started(job)

    with Claims(config.output_dir) as claims:
        for key, record in given_up.items():
            if claims.acquire(key) is None:  # the dead runner's claim is taken over, then released
                store.write(record)
                claims.release(key)

        def claimed() -> Iterator[Job]:
            """Hand over jobs one at a time, each claimed first; skip those another runner has."""
            nonlocal done_elsewhere
            for job in todo:
                owner = claims.acquire(job.key)
                if owner is not None:
                    elsewhere[job.key] = owner
                    view.drop()
                    continue
                if store.fingerprint(job.key) != seen[job.key]:  # another runner finished it meanwhile
                    claims.release(job.key)
                    done_elsewhere += 1
                    view.drop()
                    continue
                yield job

        view = ProgressView(progress, len(todo), say)
        finished = executor.run(claimed(), Path(config.output_dir), on_start=on_start, on_progress=view.progressed)
        try:
            for record in finished:
                store.write(record)
                mark.clear()
                claims.release(record["key"])
                ran += 1
                view.finished(record)
        finally:
            mark.clear()  # still alive here (Ctrl-C, an error): the job did not end the process
            close = getattr(finished, "close", None)
            if close is not None:
                close()  # a process pool stops its workers now, not when garbage collected
            view.stop()
    if done_elsewhere:
        say(f"{done_elsewhere} jobs were finished by another runner meanwhile; their records are used")
    for who, count in _by_owner(elsewhere):
        say(f"{count} jobs are being run by another runner ({who}); they are left out of this run "
            f"(`omniad report {config.output_dir}` includes them once it finishes)")
    final = store.scan()
    problems = [p for p in final.problems if p.key in keys]
    for problem in problems:
        if problem.key not in elsewhere:
            say(f"cannot use record {problem}; the job is left out of the report")
    records = [_labelled(final.records[j.key], j) for j in jobs if j.key in final.records]
    outputs = report.write_all(records, Path(config.output_dir), title=config.name, warn=say)
    held = sum(key not in final.records for key in elsewhere)  # those finished meanwhile are in the results
    return RunResult(Path(config.output_dir), jobs, records, ran, skipped + done_elsewhere, outputs,
                     elsewhere=held, problems=problems)
