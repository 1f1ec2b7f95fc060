"""How the Ray executor ends a run it did not finish (Ctrl-C), with a stand-in for Ray.

The real driver test (tests_ray/test_ray_kill.py) catches a wrong exit code only when Ray's
own race happens; this one checks the teardown order every time: a session the executor
opened is only shut down (a forced cancel there can crash the driver inside Ray), and a
caller's session, which lives on, gets the in-flight tasks cancelled instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from omniad.plugins import get_registry
from omniad.runner import ray_executor
from omniad.runner.config import parse_config
from omniad.runner.jobs import plan


class FakeRay:
    def __init__(self, initialized: bool) -> None:
        self.initialized = initialized
        self.calls: list[tuple[str, Any]] = []

    def is_initialized(self) -> bool:
        return self.initialized

    def init(self, **kwargs: Any) -> None:
        self.calls.append(("init", None))
        self.initialized = True

    def shutdown(self) -> None:
        self.calls.append(("shutdown", None))

    def cancel(self, ref: Any, force: bool = False) -> None:
        self.calls.append(("cancel", ref))

    def cluster_resources(self) -> dict[str, float]:
        return {"CPU": 2.0}

    def nodes(self) -> list[dict[str, Any]]:
        return [{"Alive": True, "Resources": {"CPU": 2.0}}]

    def remote(self, fn: Any) -> Any:
        ray = self

        class Task:
            def options(self, **_: Any) -> Task:
                return self

            def remote(self, job: Any, *_: Any) -> str:
                ray.calls.append(("submit", job.key))
                return f"ref-{job.key}"

        return Task()

    def wait(self, refs: list[Any], **_: Any) -> Any:
        raise KeyboardInterrupt  # Ctrl-C while the driver waits for the first task


def interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, initialized: bool) -> FakeRay:
    fake = FakeRay(initialized)
    monkeypatch.setattr(ray_executor, "import_ray", lambda: fake)
    config = parse_config({
        "output_dir": str(tmp_path / "out"), "examples": 0, "seeds": [0, 1, 2],
        "detectors": [{"id": "core.knn"}], "datasets": [{"id": "core.blobs"}],
    })
    jobs = plan(config, get_registry())
    executor = ray_executor.RayExecutor()
    with pytest.raises(KeyboardInterrupt):
        list(executor.run(jobs, tmp_path / "out"))
    return fake


def test_a_session_the_executor_opened_is_shut_down_without_cancelling(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    fake = interrupted(tmp_path, monkeypatch, initialized=False)
    kinds = [kind for kind, _ in fake.calls]
    assert kinds == ["init", "submit", "submit", "shutdown"]  # two CPUs: two jobs in flight


def test_a_callers_session_keeps_running_and_gets_the_tasks_cancelled(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    fake = interrupted(tmp_path, monkeypatch, initialized=True)
    submitted = [ref for kind, ref in fake.calls if kind == "submit"]
    cancelled = [ref for kind, ref in fake.calls if kind == "cancel"]
    assert len(submitted) == 2 and cancelled == [f"ref-{key}" for key in submitted]
    assert ("shutdown", None) not in fake.calls
