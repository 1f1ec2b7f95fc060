"""Executors decide where jobs run; the runner only consumes finished records.

``InlineExecutor`` runs jobs one after the other in this process (simplest, best for a
single GPU). ``ProcessExecutor`` runs them in ``workers`` fresh ``spawn`` processes, so a
job that segfaults or leaks GPU memory cannot take the others down, and each record's
peak memory is that of its own worker. Both yield records as jobs finish; the Ray
executor (``ray_executor``, imported only when chosen) sits behind the same ``run`` method.

Jobs are taken from the iterable one at a time, only when a worker is free: the runner
claims a job as it hands it over, so runners sharing an output directory split the grid
instead of each running all of it. ``on_progress`` receives the progress events of the job
in flight (``omniad.progress``): inline directly, from workers through their pipes.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from omniad import progress
from omniad.progress import ProgressEvent
from omniad.runner.config import JobResources
from omniad.runner.execute import execute_job, failed_record
from omniad.runner.jobs import Job

OnStart = Callable[[Job], None]
OnProgress = Callable[[Job, ProgressEvent], None]
#: how often a worker passes a detector's progress on to the parent (per kind of step)
WORKER_PROGRESS_S = 0.5


class Executor(Protocol):
    def run(self, jobs: Iterable[Job], output_dir: Path, on_start: OnStart | None = None,
            on_progress: OnProgress | None = None) -> Iterator[dict[str, Any]]:
        """Yield one record per job, in completion order; take each job only when it can start."""
        ...


class InlineExecutor:
    def run(self, jobs: Iterable[Job], output_dir: Path, on_start: OnStart | None = None,
            on_progress: OnProgress | None = None) -> Iterator[dict[str, Any]]:
        for job in jobs:
            if on_start is not None:
                on_start(job)
            listener = None if on_progress is None else (lambda event, job=job: on_progress(job, event))
            with progress.listening(listener):
                record = execute_job(job, output_dir)
            yield record


def _exit_with_parent(parent_pid: int) -> None:
    """Block until the process that started this worker is gone, then end this worker at once."""
    parent = multiprocessing.parent_process()
    if parent is not None and parent.sentinel is not None:
        # the parent holds the other end of this pipe: it closes when the parent dies, even by kill -9
        multiprocessing.connection.wait([parent.sentinel])
    else:  # pragma: no cover - no sentinel outside multiprocessing's own spawn
        while os.getppid() == parent_pid:
            time.sleep(0.5)
    from omniad import crashmarks

    crashmarks.forget_all()  # ended by its parent's death, not by what it was doing
    os._exit(1)


def _worker_init(parent_pid: int) -> None:
    """Workers leave Ctrl-C to the parent (which terminates them) and never outlive it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), name="omniad-parent-watch", daemon=True).start()


def _worker_main(conn: multiprocessing.connection.Connection, parent_pid: int) -> None:
    """Run the jobs the parent sends, one at a time; send back progress events and the record."""
    _worker_init(parent_pid)

    def send_progress(event: ProgressEvent) -> None:
        conn.send(("progress", event))

    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        job, output_dir = message
        try:
            with progress.listening(progress.throttled(send_progress, WORKER_PROGRESS_S)):
                record = execute_job(job, output_dir)
        except BaseException as exc:  # a job that raises KeyboardInterrupt or SystemExit itself
            record = failed_record(job, f"{type(exc).__name__}: {exc}")
        conn.send(("record", record))


def _death(process: Any) -> str:
    code = process.exitcode
    if code is not None and code < 0:
        try:
            how = f"killed by signal {-code} ({signal.Signals(-code).name})"
        except ValueError:
            how = f"killed by signal {-code}"
    else:
        how = f"exit code {code}"
    return (f"worker process died (pid {process.pid}, {how}) while running this job: a crash in native "
            "code, os._exit, the out-of-memory killer or a kill; the other jobs went on")


class _Worker:
    """One spawned process and its pipe; ``job`` is what it runs now (None: idle)."""

    def __init__(self, ctx: Any) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_main, args=(child, os.getpid()), name="omniad-worker")
        self.process.start()
        child.close()
        self.job: Job | None = None

    def stop(self) -> None:
        """Let an idle worker exit, or end a busy one now."""
        if self.job is None and not self.conn.closed:
            with contextlib.suppress(OSError):
                self.conn.send(None)
        elif self.process.is_alive():
            self.process.terminate()
        if not self.conn.closed:
            self.conn.close()


def _stop_all(workers: list[_Worker], grace_s: float) -> None:
    """Stop every worker: idle ones exit, busy ones (jobs in flight) are terminated, then killed."""
    for worker in workers:
        worker.stop()
    deadline = time.monotonic() + grace_s
    for worker in workers:
        worker.process.join(max(0.0, deadline - time.monotonic()))
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join(1.0)


class ProcessExecutor:
    """Jobs in ``workers`` spawned processes, each known by its job.

    concurrent.futures' pool cannot say which job's process died and marks the whole pool
    broken, failing every job in flight; here each worker has its own pipe and process
    sentinel, so a dead worker fails only its own job and is replaced.
    """

    def __init__(self, workers: int = 2) -> None:
        self.workers = workers

    def run(self, jobs: Iterable[Job], output_dir: Path, on_start: OnStart | None = None,
            on_progress: OnProgress | None = None) -> Iterator[dict[str, Any]]:
        ctx = multiprocessing.get_context("spawn")
        source = iter(jobs)
        workers: list[_Worker] = []
        finished = False
        try:
            exhausted = False
            while True:
                while not exhausted and sum(w.job is not None for w in workers) < self.workers:
                    job = next(source, None)
                    if job is None:
                        exhausted = True
                        break
                    workers = [w for w in workers if w.job is not None or w.process.is_alive()]
                    worker = next((w for w in workers if w.job is None), None)
                    if worker is None:
                        worker = _Worker(ctx)
                        workers.append(worker)
                    worker.job = job
                    with contextlib.suppress(OSError):  # it died idle a moment ago: its sentinel fails the job
                        worker.conn.send((job, output_dir))
                    if on_start is not None:
                        on_start(job)
                busy = [w for w in workers if w.job is not None]
                if not busy:
                    break
                multiprocessing.connection.wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
                for worker in busy:
                    record = self._collect(worker, on_progress)
                    if record is not None:
                        yield record
            finished = True
        finally:
            _stop_all(workers, grace_s=10.0 if finished else 2.0)

    @staticmethod
    def _collect(worker: _Worker, on_progress: OnProgress | None) -> dict[str, Any] | None:
        """Read what ``worker`` sent: its record, a failed record if it died, or None while it runs."""
        job = worker.job
        assert job is not None
        gone = False
        try:
            while worker.conn.poll():
                kind, payload = worker.conn.recv()
                if kind == "record":
                    worker.job = None
                    return payload
                if on_progress is not None:
                    with contextlib.suppress(Exception):  # a display problem must never cost a job
                        on_progress(job, payload)
        except (EOFError, OSError):
            gone = True  # the pipe closed: the worker is gone, whatever its state says yet
        if not gone and worker.process.is_alive():
            return None
        worker.process.join(5.0)
        worker.job = None
        worker.conn.close()
        return failed_record(job, _death(worker.process))


def make_executor(name: str, workers: int, *, address: str | None = None,
                  resources: JobResources | None = None) -> Executor:
    if name == "process":
        return ProcessExecutor(workers)
    if name == "ray":
        from omniad.runner.ray_executor import RayExecutor  # Ray only when asked for

        return RayExecutor(address, resources)
    return InlineExecutor()
