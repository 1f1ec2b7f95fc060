"""Executors decide where jobs run; the runner only consumes finished records.

``InlineExecutor`` runs jobs one after the other in this process (simplest, best for a
single GPU). ``ProcessExecutor`` runs them in a pool of fresh ``spawn`` processes, so a
job that segfaults or leaks GPU memory cannot take the others down, and each record's
peak memory is that of its own worker. Both yield records as jobs finish; the Ray
executor (``ray_executor``, imported only when chosen) sits behind the same ``run`` method.

Jobs are taken from the iterable one at a time, only when a worker is free: the runner
claims a job as it hands it over, so runners sharing an output directory split the grid
instead of each running all of it.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from omniad.runner.config import JobResources
from omniad.runner.execute import execute_job, failed_record
from omniad.runner.jobs import Job

OnStart = Callable[[Job], None]


class Executor(Protocol):
    def run(self, jobs: Iterable[Job], output_dir: Path, on_start: OnStart | None = None) -> Iterator[dict[str, Any]]:
        """Yield one record per job, in completion order; take each job only when it can start."""
        ...


class InlineExecutor:
    def run(self, jobs: Iterable[Job], output_dir: Path, on_start: OnStart | None = None) -> Iterator[dict[str, Any]]:
        for job in jobs:
            if on_start is not None:
                on_start(job)
            yield execute_job(job, output_dir)


def _crash_record(job: Job, exc: BaseException) -> dict[str, Any]:
    return failed_record(job, f"worker process died: {type(exc).__name__}: {exc}")


def _exit_with_parent(parent_pid: int) -> None:
    """Block until the process that started this worker is gone, then end this worker at once."""
    parent = multiprocessing.parent_process()
    if parent is not None and parent.sentinel is not None:
        # the parent holds the other end of this pipe: it closes when the parent dies, even by kill -9
        multiprocessing.connection.wait([parent.sentinel])
    else:  # pragma: no cover - no sentinel outside multiprocessing's own spawn
        while os.getppid() == parent_pid:
            time.sleep(0.5)
    os._exit(1)


def _worker_init(parent_pid: int) -> None:
    """Workers leave Ctrl-C to the parent (which terminates them) and never outlive it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), name="omniad-parent-watch", daemon=True).start()


def _terminate(pool: cf.ProcessPoolExecutor, grace_s: float = 2.0) -> None:
    """Stop the workers now, jobs in flight included (Python < 3.14 has no public way)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    deadline = time.monotonic() + grace_s
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join(1.0)


class ProcessExecutor:
    def __init__(self, workers: int = 2) -> None:
        self.workers = workers

    def _pool(self) -> cf.ProcessPoolExecutor:
        ctx = multiprocessing.get_context("spawn")
        return cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx,
                                      initializer=_worker_init, initargs=(os.getpid(),))

    def run(self, jobs: Iterable[Job], output_dir: Path, on_start: OnStart | None = None) -> Iterator[dict[str, Any]]:
        source = iter(jobs)
        pool = self._pool()
        pending: dict[cf.Future[dict[str, Any]], Job] = {}
        finished = False
        try:
            exhausted = False
            while True:
                while not exhausted and len(pending) < self.workers:
                    job = next(source, None)
                    if job is None:
                        exhausted = True
                        break
                    pending[pool.submit(execute_job, job, output_dir)] = job
                    if on_start is not None:
                        on_start(job)
                if not pending:
                    break
                done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                broken = False
                for future in done:
                    job = pending.pop(future)
                    try:
                        record = future.result()
                    except Exception as exc:  # the worker died (segfault, OOM kill) or could not unpickle
                        broken = broken or isinstance(exc, cf.process.BrokenProcessPool)
                        record = _crash_record(job, exc)
                    yield record
                if broken:  # a dead worker breaks the whole pool: fail what was in it, go on with a new one
                    for future, job in list(pending.items()):
                        error: BaseException | None
                        try:
                            error = future.exception(timeout=10)
                        except (cf.TimeoutError, cf.CancelledError) as waited:
                            error = waited
                        yield future.result() if error is None else _crash_record(job, error)
                    pending.clear()
                    pool.shutdown(wait=True, cancel_futures=True)
                    pool = self._pool()
            finished = True
        finally:
            if not finished:  # Ctrl-C or the consumer stopped: do not wait for jobs in flight
                _terminate(pool)
            pool.shutdown(wait=finished, cancel_futures=True)


def make_executor(name: str, workers: int, *, address: str | None = None,
                  resources: JobResources | None = None) -> Executor:
    if name == "process":
        return ProcessExecutor(workers)
    if name == "ray":
        from omniad.runner.ray_executor import RayExecutor  # Ray only when asked for

        return RayExecutor(address, resources)
    return InlineExecutor()
