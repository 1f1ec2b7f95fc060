"""The shared runner: config -> jobs -> executor -> store -> reports."""

from omniad.runner.config import ComponentSpec, MetricSpec, RunConfig, load_config, parse_config
from omniad.runner.execute import execute_job
from omniad.runner.jobs import Job, plan
from omniad.runner.run import RunResult, run
from omniad.runner.store import ResultStore

__all__ = [
    "ComponentSpec",
    "Job",
    "MetricSpec",
    "ResultStore",
    "RunConfig",
    "RunResult",
    "execute_job",
    "load_config",
    "parse_config",
    "plan",
    "run",
]
