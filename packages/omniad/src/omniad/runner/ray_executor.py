"""The Ray executor: one Ray task per job, records streamed back, the driver the only writer.

A task carries the job spec (ids, validated parameters, seed: a few hundred bytes), never
data; each worker builds the dataset itself, so paths resolve on the worker's node (see
``docs/cli.md``, "Scale-out on Ray"). The task returns the record and the bytes of its
example pictures; the driver writes both, so the store has one writer whatever the
cluster size, and a driver killed by ``kill -9`` loses only the jobs in flight (claims
and resume do the rest, as for the other executors).

Tasks are never retried by Ray (``max_retries=0``): a task whose worker dies becomes a
failed record naming the cause, and the rerun policy decides, as everywhere else.
Before running a job a worker checks that it has every component the driver planned with,
from the same plugin version, so a node missing a plugin fails that job in one line
instead of with a deep ``UnknownComponentError`` or, worse, silently different numbers.

Ray is imported only when this executor runs (``pip install 'omniad[ray]'``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from omniad.errors import MissingDependencyError, OmniadError
from omniad.runner.config import JobResources
from omniad.runner.execute import execute_job, failed_record
from omniad.runner.jobs import Job

#: how long one ``ray.wait`` blocks, so Ctrl-C is seen within this time
_WAIT_S = 0.5
#: how long the cluster's size is trusted before it is asked again (clusters autoscale)
_CAPACITY_TTL_S = 5.0
_MB = 2**20

#: (kind, id, plugin, plugin version) of each component a job uses, as the driver sees them
Expected = list[tuple[str, str, str, str | None]]


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise MissingDependencyError(
            "executor 'ray' needs Ray, which is not installed; pip install 'omniad[ray]' "
            "(or choose executor = 'inline' / 'process')"
        ) from None
    return ray


def expected_components(job: Job, registry: Any) -> Expected:
    out: Expected = []
    parts = [("detector", job.detector.id), ("dataset", job.dataset.id)] + [("metric", m.id) for m in job.metrics]
    for kind, cid in dict.fromkeys(parts):
        entry = registry.get(kind, cid)
        out.append((kind, cid, entry.plugin, entry.plugin_version))
    return out


def worker_plugins() -> dict[str, str | None]:
    """What ``omniad plugins`` would list as usable on this worker: name -> version."""
    from omniad.plugins import get_plugin_manager

    return {name: info.version for name, info in sorted(get_plugin_manager().plugins.items())
            if info.status in ("builtin", "loaded")}


def plugin_problem(expected: Expected, registry: Any, plugins: dict[str, str | None], host: str) -> str | None:
    """Why this worker cannot run the job as the driver planned it, else None."""
    have = ", ".join(f"{n} {v}" for n, v in plugins.items()) or "none"
    for kind, cid, plugin, version in expected:
        if (kind, cid) not in registry:
            return (f"{kind} {cid!r} (plugin {plugin} {version} on the driver) is not installed on Ray worker "
                    f"{host} (its plugins: {have}); install the same plugins on every node of the cluster")
        got = registry.get(kind, cid).plugin_version
        if got != version:
            return (f"{kind} {cid!r}: plugin {plugin} is version {version} on the driver but {got} on Ray worker "
                    f"{host}; install the same plugin versions on every node so results are comparable")
    return None


def _collect_files(root: Path) -> dict[str, bytes]:
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            out[path.relative_to(root).as_posix()] = path.read_bytes()
    return out


def run_on_worker(job: Job, expected: Expected, driver_cwd: str) -> dict[str, Any]:
    """The Ray task: check the plugins, run the job in a scratch directory, return record + pictures.

    Relative dataset paths were checked against the driver's working directory, so the job
    runs there when this node has that directory (local Ray, shared filesystems).
    """
    from omniad.plugins import get_registry

    host = socket.gethostname()
    plugins = worker_plugins()
    problem = plugin_problem(expected, get_registry(), plugins, host)
    files: dict[str, bytes] = {}
    if problem is not None:
        record = failed_record(job, problem)
    else:
        before = os.getcwd()
        with tempfile.TemporaryDirectory(prefix="omniad-ray-") as scratch:
            try:
                if os.path.isdir(driver_cwd):
                    os.chdir(driver_cwd)
                record = execute_job(job, scratch)
            finally:
                os.chdir(before)
            files = _collect_files(Path(scratch))
    record["worker"] = {"host": host, "pid": os.getpid(), "plugins": plugins}
    return {"record": record, "files": files}


def _one_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[-1] if lines else ''}".strip()


def _write_files(output_dir: Path, files: dict[str, bytes]) -> None:
    """Pictures first, record after: a record never names a picture that is not on disk yet."""
    root = output_dir.resolve()
    for rel, data in files.items():
        target = (root / rel).resolve()
        if root not in target.parents:  # a worker names only files under its scratch dir
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


class RayExecutor:
    """Run jobs as Ray tasks on a local instance or a cluster (``address``)."""

    def __init__(self, address: str | None = None, resources: JobResources | None = None,
                 registry: Any = None) -> None:
        import_ray()  # a missing Ray fails here, before any job is claimed
        self.address = address
        self.resources = resources or JobResources()
        self._registry = registry
        self._capacity_at = -_CAPACITY_TTL_S
        self._cluster: dict[str, float] = {}
        self._largest: dict[str, float] = {}

    # -- cluster ----------------------------------------------------------------------

    def _connect(self, ray: Any) -> bool:
        """Join (or start) Ray; True when this call started the session and must end it."""
        if ray.is_initialized():  # the caller's own session (a notebook, the tests)
            return False
        kwargs: dict[str, Any] = {"log_to_driver": False, "logging_level": "ERROR"}
        if self.address:
            kwargs["address"] = self.address
        else:
            kwargs["include_dashboard"] = False
        try:
            ray.init(**kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the Ray cluster at {self.address!r}" if self.address else "a local Ray instance"
            raise OmniadError(
                f"cannot connect to {where} ({_one_line(exc)}); start one with `ray start --head` "
                "and pass --address auto (on its nodes) or --address ray://HEAD:10001"
            ) from None
        return True

    def _refresh(self, ray: Any) -> None:
        now = time.monotonic()
        if now - self._capacity_at < _CAPACITY_TTL_S:
            return
        self._capacity_at = now
        self._cluster = dict(ray.cluster_resources())
        largest: dict[str, float] = {}
        for node in ray.nodes():
            if node.get("Alive", True):
                for name, amount in node.get("Resources", {}).items():
                    largest[name] = max(largest.get(name, 0.0), float(amount))
        self._largest = largest

    def capacity(self) -> int:
        """Jobs kept in flight: as many as the cluster's CPUs run at once, so jobs are claimed
        only when they can start (other runners sharing the directory take the rest)."""
        return max(1, int(self._cluster.get("CPU", 1.0) // self.resources.cpus))

    def request(self, job: Job, registry: Any) -> dict[str, Any]:
        """Ray task options for ``job``: CPUs, GPUs where its card uses one, a memory hint."""
        res = self.resources
        options: dict[str, Any] = {"num_cpus": res.cpus, "max_retries": 0}
        card = registry.get("detector", job.detector.id).card
        if card.gpu in ("optional", "required") and job.device != "cpu" and self._cluster.get("GPU", 0) > 0:
            options["num_gpus"] = res.gpus
        hints = [res.memory_mb_by_id[i] for i in (job.detector.id, job.dataset.id) if i in res.memory_mb_by_id]
        memory_mb = max(hints) if hints else res.memory_mb
        if memory_mb is not None:
            options["memory"] = memory_mb * _MB
        return options

    def infeasible(self, options: dict[str, Any]) -> str | None:
        """Why no node can ever run a task with ``options`` (Ray would queue it forever)."""
        asked = {"CPU": options["num_cpus"], "GPU": options.get("num_gpus", 0.0),
                 "memory": options.get("memory", 0.0)}
        for name, amount in asked.items():
            if amount and amount > self._largest.get(name, 0.0):
                unit = _MB if name == "memory" else 1
                have = self._largest.get(name, 0.0) / unit
                need = amount / unit
                what = "MB of memory" if name == "memory" else name + "s"
                return (f"the job asks for {need:g} {what} but the largest Ray node has {have:g}; "
                        "lower `resources` in the config or add a bigger node")
        return None

    # -- running ----------------------------------------------------------------------

    def run(self, jobs: Iterable[Job], output_dir: Path, on_start: Any = None,
            on_progress: Any = None) -> Iterator[dict[str, Any]]:
        """Yield records as tasks finish. Progress inside a task (subsets, epochs) stays on its worker:
        ``on_progress`` is accepted for the executor interface and not called; the display shows
        which jobs are in flight and which finished."""
        ray = import_ray()
        from omniad.plugins import get_registry

        registry = self._registry or get_registry()
        started = self._connect(ray)
        task = ray.remote(run_on_worker)
        cwd = os.getcwd()
        source = iter(jobs)
        pending: dict[Any, Job] = {}
        finished = False
        try:
            exhausted = False
            while True:
                self._refresh(ray)
                while not exhausted and len(pending) < self.capacity():
                    job = next(source, None)
                    if job is None:
                        exhausted = True
                        break
                    if on_start is not None:
                        on_start(job)
                    options = self.request(job, registry)
                    why = self.infeasible(options)
                    if why is not None:
                        yield failed_record(job, why)
                        continue
                    pending[task.options(**options).remote(job, expected_components(job, registry), cwd)] = job
                if not pending:
                    break
                done, _ = ray.wait(list(pending), num_returns=1, timeout=_WAIT_S)
                for ref in done:
                    job = pending.pop(ref)
                    try:
                        result = ray.get(ref)
                    except Exception as exc:  # the worker died, the node was lost, out of memory...
                        yield failed_record(job, f"Ray task lost: {_one_line(exc)}")
                        continue
                    _write_files(Path(output_dir), result["files"])
                    yield result["record"]
            finished = True
        finally:
            if started:
                # Ending the session we opened ends its job: Ray stops the job's workers itself. No
                # ray.cancel first: a forced cancel racing a task's own reply can fail a Ray internal
                # check (TaskManager::CompletePendingTask) that ends the driver with exit code 1, so a
                # Ctrl-C would not exit 130 (seen once in CI on a busy 2-core machine).
                ray.shutdown()
            elif not finished:  # the caller's session lives on: stop what this run left in flight there
                for ref in pending:
                    with contextlib.suppress(Exception):
                        ray.cancel(ref, force=True)
