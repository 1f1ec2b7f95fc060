"""The results store: one JSON record per job, written atomically the moment it finishes.

A directory of small files (``<output>/jobs/<key>.json``) rather than one big file:
a crash or Ctrl-C can only lose the job in flight, concurrent workers never contend for
a lock, and ``git diff``/``grep`` work on results. Reports are rebuilt from the records.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from omniad.runner.jobs import Job

DONE_STATUSES = {"ok", "partial", "skipped"}


class ResultStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.jobs_dir = self.root / "jobs"

    def path(self, key: str) -> Path:
        return self.jobs_dir / f"{key}.json"

    def write(self, record: dict[str, Any]) -> Path:
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        target = self.path(record["key"])
        fd, tmp = tempfile.mkstemp(dir=self.jobs_dir, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(record, fh, indent=1, default=str)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def get(self, key: str) -> dict[str, Any] | None:
        path = self.path(key)
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (json.JSONDecodeError, OSError):
            return None  # a torn or corrupt record counts as missing: the job reruns

    def records(self) -> list[dict[str, Any]]:
        if not self.jobs_dir.is_dir():
            return []
        out = []
        for path in sorted(self.jobs_dir.glob("*.json")):
            record = self.get(path.stem)
            if record is not None:
                out.append(record)
        return out

    def needs_run(self, job: Job, rerun: str) -> bool:
        """Whether ``job`` must run given what the store holds and the rerun policy."""
        if rerun == "all":
            return True
        record = self.get(job.key)
        if record is None:
            return True
        status = record.get("status")
        if status not in DONE_STATUSES:
            return rerun == "failed"
        if status == "skipped":
            return False
        have = set(record.get("requested_metrics", []))
        return not set(job.metric_names) <= have

    def write_manifest(self, data: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "run.json").write_text(json.dumps(data, indent=1, default=str))
