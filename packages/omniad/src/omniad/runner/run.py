"""The shared runner: plan the grid, skip finished jobs, execute, store, report."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omniad.registry import Registry
from omniad.runner import report
from omniad.runner.claims import Claims, Owner
from omniad.runner.config import RunConfig
from omniad.runner.executors import make_executor
from omniad.runner.jobs import Job, plan
from omniad.runner.store import RecordProblem, ResultStore


@dataclass
class RunResult:
    output_dir: Path
    jobs: list[Job]
    records: list[dict[str, Any]]
    ran: int
    skipped: int
    outputs: dict[str, Path] = field(default_factory=dict)
    #: jobs left out because another live runner holds their claim
    elsewhere: int = 0
    #: record files that could not be used (left out of ``records``)
    problems: list[RecordProblem] = field(default_factory=list)

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("status") == "failed"]


def _progress(enabled: bool) -> Any:
    """A rich progress bar on a terminal; plain lines in CI logs; nothing when disabled."""
    if not enabled:
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.fields[current]}"), transient=False, disable=not sys.stderr.isatty(),
    )


def _by_owner(owners: dict[str, Owner]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for owner in owners.values():
        counts[owner.describe()] = counts.get(owner.describe(), 0) + 1
    return sorted(counts.items())


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
    store.write_manifest({"name": config.name, "config": config.model_dump(mode="json"), "jobs": [j.key for j in jobs]})
    keys = {j.key for j in jobs}
    scan = store.scan()
    for problem in scan.problems:
        if problem.key in keys:
            say(f"cannot use record {problem}; the job will rerun")
    todo = [j for j in jobs if store.needs_run(j, config.rerun, scan.records.get(j.key))]
    seen = {j.key: store.fingerprint(j.key) for j in todo}
    skipped = len(jobs) - len(todo)
    if skipped:
        say(f"{skipped} of {len(jobs)} jobs already in {config.output_dir}; running {len(todo)}")
    executor = make_executor(config.executor, config.workers, address=config.address, resources=config.resources)
    bar = _progress(progress)
    plain = progress and (bar is None or not sys.stderr.isatty() or os.environ.get("CI"))
    ran = 0
    planned = len(todo)
    elsewhere: dict[str, Owner] = {}
    done_elsewhere = 0
    if bar is not None:
        bar.start()
        task = bar.add_task("jobs", total=planned, current="")

    def on_start(job: Job) -> None:
        if bar is not None:
            bar.update(task, current=f"{job.detector.label} on {job.dataset.label} (seed {job.seed})")

    def drop() -> None:
        nonlocal planned
        planned -= 1
        if bar is not None:
            bar.update(task, total=planned)

    with Claims(config.output_dir) as claims:

        def claimed() -> Iterator[Job]:
            """Hand over jobs one at a time, each claimed first; skip those another runner has."""
            nonlocal done_elsewhere
            for job in todo:
                owner = claims.acquire(job.key)
                if owner is not None:
                    elsewhere[job.key] = owner
                    drop()
                    continue
                if store.fingerprint(job.key) != seen[job.key]:  # another runner finished it meanwhile
                    claims.release(job.key)
                    done_elsewhere += 1
                    drop()
                    continue
                yield job

        finished = executor.run(claimed(), Path(config.output_dir), on_start=on_start)
        try:
            for record in finished:
                store.write(record)
                claims.release(record["key"])
                ran += 1
                if bar is not None:
                    bar.advance(task)
                if plain:
                    say(f"[{ran}/{planned}] {record['detector']['label']} on {record['dataset']['label']}: "
                        f"{record.get('status')}" + (f" ({record['error']})" if record.get("error") else ""))
        finally:
            close = getattr(finished, "close", None)
            if close is not None:
                close()  # a process pool stops its workers now, not when garbage collected
            if bar is not None:
                bar.stop()
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
    records = [final.records[j.key] for j in jobs if j.key in final.records]
    outputs = report.write_all(records, Path(config.output_dir), title=config.name, warn=say)
    return RunResult(Path(config.output_dir), jobs, records, ran, skipped + done_elsewhere, outputs,
                     elsewhere=len(elsewhere), problems=problems)
