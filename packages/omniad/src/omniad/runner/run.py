"""The shared runner: plan the grid, skip finished jobs, execute, store, report."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omniad.registry import Registry
from omniad.runner import report
from omniad.runner.config import RunConfig
from omniad.runner.executors import make_executor
from omniad.runner.jobs import Job, plan
from omniad.runner.store import ResultStore


@dataclass
class RunResult:
    output_dir: Path
    jobs: list[Job]
    records: list[dict[str, Any]]
    ran: int
    skipped: int
    outputs: dict[str, Path] = field(default_factory=dict)

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


def run(
    config: RunConfig,
    *,
    registry: Registry | None = None,
    progress: bool = True,
    log: Any = None,
) -> RunResult:
    """Run (or resume) the grid described by ``config``; results survive a crash or Ctrl-C."""
    from omniad.plugins import get_registry

    registry = registry or get_registry()
    jobs = plan(config, registry)  # every id and parameter checked before any work
    store = ResultStore(config.output_dir)
    store.write_manifest({"name": config.name, "config": config.model_dump(mode="json"), "jobs": [j.key for j in jobs]})
    todo = [j for j in jobs if store.needs_run(j, config.rerun)]
    skipped = len(jobs) - len(todo)
    say = log or (lambda msg: print(msg, file=sys.stderr))
    if skipped:
        say(f"{skipped} of {len(jobs)} jobs already in {config.output_dir}; running {len(todo)}")
    executor = make_executor(config.executor, config.workers)
    bar = _progress(progress)
    plain = progress and (bar is None or not sys.stderr.isatty() or os.environ.get("CI"))
    ran = 0
    if bar is not None:
        bar.start()
        task = bar.add_task("jobs", total=len(todo), current="")

    def on_start(job: Job) -> None:
        if bar is not None:
            bar.update(task, current=f"{job.detector.label} on {job.dataset.label} (seed {job.seed})")

    try:
        for record in executor.run(todo, Path(config.output_dir), on_start=on_start):
            store.write(record)
            ran += 1
            if bar is not None:
                bar.advance(task)
            if plain:
                say(f"[{ran}/{len(todo)}] {record['detector']['label']} on {record['dataset']['label']}: "
                    f"{record.get('status')}" + (f" ({record['error']})" if record.get("error") else ""))
    finally:
        if bar is not None:
            bar.stop()
    records = [r for r in (store.get(j.key) for j in jobs) if r is not None]
    outputs = report.write_all(records, Path(config.output_dir), title=config.name)
    return RunResult(Path(config.output_dir), jobs, records, ran, skipped, outputs)
