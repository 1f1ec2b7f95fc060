"""Executors decide where jobs run; the runner only consumes finished records.

``InlineExecutor`` runs jobs one after the other in this process (simplest, best for a
single GPU). ``ProcessExecutor`` runs them in a pool of fresh ``spawn`` processes, so a
job that segfaults or leaks GPU memory cannot take the others down, and each record's
peak memory is that of its own worker. Both yield records as jobs finish; a Ray executor
can slot in behind the same ``run`` method.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from omniad.runner.execute import execute_job
from omniad.runner.jobs import Job

OnStart = Callable[[Job], None]


class Executor(Protocol):
    def run(self, jobs: Sequence[Job], output_dir: Path, on_start: OnStart | None = None) -> Iterator[dict[str, Any]]:
        """Yield one record per job, in completion order."""
        ...


class InlineExecutor:
    def run(self, jobs: Sequence[Job], output_dir: Path, on_start: OnStart | None = None) -> Iterator[dict[str, Any]]:
        for job in jobs:
            if on_start is not None:
                on_start(job)
            yield execute_job(job, output_dir)


def _crash_record(job: Job, exc: BaseException) -> dict[str, Any]:
    return {
        "key": job.key,
        "detector": job.detector.to_dict(),
        "dataset": job.dataset.to_dict(),
        "seed": job.seed,
        "requested_metrics": job.metric_names,
        "status": "failed",
        "error": f"worker process died: {type(exc).__name__}: {exc}",
        "metrics": {},
        "subsets": [],
    }


class ProcessExecutor:
    def __init__(self, workers: int = 2) -> None:
        self.workers = workers

    def run(self, jobs: Sequence[Job], output_dir: Path, on_start: OnStart | None = None) -> Iterator[dict[str, Any]]:
        ctx = multiprocessing.get_context("spawn")
        pool = cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        try:
            futures = {pool.submit(execute_job, job, output_dir): job for job in jobs}
            if on_start is not None:
                for job in jobs[: self.workers]:
                    on_start(job)
            for future in cf.as_completed(futures):
                job = futures[future]
                try:
                    yield future.result()
                except cf.process.BrokenProcessPool as exc:
                    yield _crash_record(job, exc)
                except Exception as exc:
                    yield _crash_record(job, exc)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


def make_executor(name: str, workers: int) -> Executor:
    if name == "process":
        return ProcessExecutor(workers)
    return InlineExecutor()
