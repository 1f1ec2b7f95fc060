"""The results store: one JSON record per job, written atomically the moment it finishes.

A directory of small files (``<output>/jobs/<key>.json``) rather than one big file:
a crash or Ctrl-C can only lose the job in flight, concurrent workers never contend for
a lock, and ``git diff``/``grep`` work on results. Reports are rebuilt from the records.

Records are checked when read, because a record is trusted as a finished result: a torn
file, a hand-edited one or one copied under another job's name must not silently stand in
for a job. Nor may one whose status promises more than it holds (``ok`` with no subsets, a
requested metric neither measured nor explained by a subset, ``skipped`` without a reason).
``scan`` returns the usable records and, as data, every file it could not use and why, so the
runner and ``omniad report`` can say which jobs rerun or are left out.
"""

from __future__ import annotations

import json
import math
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omniad.errors import ConfigError, OmniadError
from omniad.runner.execute import RECORD_VERSION
from omniad.runner.jobs import Job, Resolved, job_key

DONE_STATUSES = {"ok", "partial", "skipped"}
STATUSES = DONE_STATUSES | {"failed"}
SUBSET_STATUSES = {"ok", "failed"}
KNOWN_RECORD_VERSIONS = frozenset({RECORD_VERSION})
KEY_RE = re.compile(r"[0-9a-f]{16}")
_TIMINGS = ("fit_s", "score_s", "total_s", "samples_per_s", "peak_rss_mb")
_READ: Any = object()
#: job-level metric errors that need no subset's: metrics left out before the job ran, and values
#: ``write`` moved aside as infinite (a mean of huge finite values can overflow)
_JOB_LEVEL_REASONS = ("not computed: ", "the metric returned ")


class RecordError(OmniadError):
    """A job record exists but cannot be used as a result."""


@dataclass(frozen=True)
class RecordProblem:
    """A record file that could not be used, and why."""

    path: Path
    reason: str

    @property
    def key(self) -> str:
        return self.path.stem

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class StoreScan:
    """What a store holds: usable records by key (sorted) and the files that were not usable."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[RecordProblem] = field(default_factory=list)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _component_problem(name: str, value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"'{name}' is not an object"
    for part, kind in (("id", str), ("label", str), ("params", dict)):
        if not isinstance(value.get(part), kind):
            return f"'{name}.{part}' is missing or not a {kind.__name__}"
    return None


def _str_map(value: Any, of: type | tuple[type, ...], what: str) -> str | None:
    """Why ``value`` is not a mapping of names to ``of`` values (bools are not numbers here)."""
    if not isinstance(value, dict):
        return f"{what} is not an object"
    for name, item in value.items():
        if not isinstance(item, of) or isinstance(item, bool):
            return f"{what} {name!r} is {item!r}, not {'a string' if of is str else 'an integer' if of is int else 'a number'}"
    return None


def _str_list(value: Any, what: str) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return f"{what} is not a list of strings"
    return None


def _subset_problem(index: int, sub: dict[str, Any]) -> str | None:
    """Why subset record ``sub`` (the ``index``-th) is malformed; None when it is fine."""
    where = f"subsets[{index}]"
    if not isinstance(sub.get("name"), str):
        return f"{where}.name is missing or not a string"
    if sub.get("status") not in SUBSET_STATUSES:
        return f"{where}.status {sub.get('status')!r} is not one of {', '.join(sorted(SUBSET_STATUSES))}"
    if sub["status"] == "ok" and "metrics" not in sub:
        return f"{where} is ok but has no 'metrics'"
    checks = (
        ("metrics", lambda v, w: _str_map(v, (int, float), w)),
        ("metric_errors", lambda v, w: _str_map(v, str, w)),
        ("counts", lambda v, w: _str_map(v, int, w)),
        ("warnings", _str_list),
        ("artifacts", _str_list),
    )
    for name, check in checks:
        if name in sub and (problem := check(sub[name], f"{where}.{name}")):
            return problem
    for name in ("fit_s", "score_s"):
        if sub.get(name) is not None and not _is_number(sub[name]):
            return f"{where}.{name} is {sub[name]!r}, not a number"
    if sub.get("error") is not None and not isinstance(sub["error"], str):
        return f"{where}.error is not a string"
    return None


def _promise_problem(data: dict[str, Any]) -> str | None:
    """Why a finished record does not hold what its status promises; None when it does.

    ``ok``: every subset ran; ``partial``: at least one did. Either way each requested metric
    has a value or says why it has none, and each value comes from a subset that ran. A record
    hand-edited to ``ok`` without results would otherwise stand in for the job for ever.
    """
    status, subsets = data["status"], data["subsets"]
    ok = [s for s in subsets if s["status"] == "ok"]
    if status == "ok" and (not subsets or len(ok) != len(subsets)):
        return (f"status 'ok' but {len(subsets) - len(ok)} of {len(subsets)} subsets ran ok" if subsets
                else "status 'ok' but it has no subsets")
    if status == "partial" and not ok:
        return f"status 'partial' but none of its {len(subsets)} subsets ran ok"
    errors = data.get("metric_errors") or {}
    missing = [m for m in data["requested_metrics"] if m not in data["metrics"] and m not in errors]
    if missing:
        return (f"status {status!r} but requested metric {missing[0]!r} is neither in 'metrics' "
                "nor in 'metric_errors'")
    from_subsets = {name for s in ok for name in s.get("metrics", {})}
    unfounded = [m for m in data["metrics"] if m not in from_subsets]
    if unfounded:
        return f"metric {unfounded[0]!r} is in 'metrics' but in no subset that ran ok"
    # a metric is explained by a subset's error, or left out before the job ran ("not computed: ...")
    subset_errors = {name for s in ok for name in s.get("metric_errors", {})}
    for name in data["requested_metrics"]:
        why = errors.get(name) if name not in data["metrics"] else None
        if why is None:
            continue
        if not why.strip():
            return f"requested metric {name!r} has an empty reason in 'metric_errors'"
        if name not in subset_errors and not why.startswith(_JOB_LEVEL_REASONS):
            return (f"requested metric {name!r} is explained in 'metric_errors' but by no subset that ran ok "
                    "(nor left out as 'not computed: ...')")
    return None


def record_problem(data: Any, key: str) -> str | None:
    """Why ``data`` cannot serve as the record of job ``key``; None when it can."""
    if not isinstance(data, dict):
        return f"not a JSON object but a {type(data).__name__}"
    version = data.get("record_version")
    if not isinstance(version, int) or isinstance(version, bool) or version not in KNOWN_RECORD_VERSIONS:
        return (f"record_version {version!r} is not one this omniad reads "
                f"({', '.join(map(str, sorted(KNOWN_RECORD_VERSIONS)))})")
    if data.get("key") != key:
        return f"its key {data.get('key')!r} does not match the file name"
    for name in ("detector", "dataset"):
        problem = _component_problem(name, data.get(name))
        if problem:
            return problem
    seed = data.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool):
        return f"'seed' {seed!r} is not an integer"
    if data.get("status") not in STATUSES:
        return f"'status' {data.get('status')!r} is not one of {', '.join(sorted(STATUSES))}"
    requested = data.get("requested_metrics")
    if not isinstance(requested, list) or not all(isinstance(m, str) for m in requested):
        return "'requested_metrics' is missing or not a list of names"
    metrics = data.get("metrics")
    if not isinstance(metrics, dict):
        return "'metrics' is missing or not an object"
    for name, value in metrics.items():
        if not _is_number(value) or math.isinf(value):
            return f"metric {name!r} is {value!r}, not a finite number or NaN"
    if not isinstance(data.get("subsets"), list) or not all(isinstance(s, dict) for s in data["subsets"]):
        return "'subsets' is missing or not a list of objects"
    for index, sub in enumerate(data["subsets"]):
        if problem := _subset_problem(index, sub):
            return problem
    if "metric_errors" in data and (problem := _str_map(data["metric_errors"], str, "'metric_errors'")):
        return problem
    for name in ("error", "adjusted", "data_notes"):
        if data.get(name) is not None and not isinstance(data[name], str):
            return f"'{name}' is not a string"
    for name in _TIMINGS:
        if data.get(name) is not None and not _is_number(data[name]):
            return f"'{name}' is {data[name]!r}, not a number"
    if data["status"] in ("ok", "partial") and (problem := _promise_problem(data)):
        return problem
    if data["status"] == "skipped" and not (isinstance(data.get("error"), str) and data["error"].strip()):
        return "status 'skipped' but no 'error' says why"  # a skip is final under rerun = 'failed': it must say why
    for name, expected in (("n_subsets", len(data["subsets"])),
                           ("n_failed_subsets", sum(s["status"] != "ok" for s in data["subsets"]))):
        if name in data and data[name] != expected:
            return f"'{name}' is {data[name]!r} but the record lists {expected}"
    det, ds = data["detector"], data["dataset"]
    score = ds.get("score")
    if score is not None and not isinstance(score, dict):
        return "'dataset.score' is not an object"
    expected = job_key(Resolved(det["id"], det["params"], ""), Resolved(ds["id"], ds["params"], "", score), seed)
    if expected != key:
        return f"its detector, dataset and seed belong to job {expected}, not {key}"
    return None


def _write_atomic(target: Path, text: str) -> None:
    """Write via a temp file and rename, with ordinary permissions (0666 less the umask)."""
    tmp = target.with_name(f".tmp-{uuid.uuid4().hex}{target.suffix}")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class ResultStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.jobs_dir = self.root / "jobs"

    def path(self, key: str) -> Path:
        return self.jobs_dir / f"{key}.json"

    def prepare(self) -> None:
        """Make sure records can be written here, before any job runs; one-line ConfigError if not."""
        for folder in (self.root, self.jobs_dir, self.root / "claims"):
            if folder.exists() and not folder.is_dir():
                raise ConfigError(f"output directory {folder} exists and is not a directory; "
                                  "pass a directory as output_dir / --output-dir")
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"cannot create output directory {folder} ({exc.strerror or exc}); "
                                  "pass a writable output_dir / --output-dir") from None
        probe = self.jobs_dir / f".tmp-probe-{uuid.uuid4().hex}"
        try:
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(f"output directory {self.root} is not writable ({exc.strerror or exc}); "
                              "pass a writable output_dir / --output-dir") from None

    def write(self, record: dict[str, Any]) -> Path:
        """Store ``record`` atomically; only what ``scan`` would accept back is written.

        An infinite metric value (a metric bug, e.g. a threshold at the end of a curve) is
        not a result: it moves to ``metric_errors`` (the job's or the subset's) so the rest of
        the record stays usable.
        """
        if record.get("status") == "skipped" and not str(record.get("error") or "").strip():
            record["error"] = "skipped; the code that skipped it gave no reason"  # still a record scan accepts
        for part in [record, *(s for s in record.get("subsets") or [] if isinstance(s, dict))]:
            if part is not record and part.get("name") is not None and not isinstance(part["name"], str):
                part["name"] = str(part["name"])  # a loader's subset named by a number: still that subset
            metrics = part.get("metrics")
            if isinstance(metrics, dict):
                for name, value in list(metrics.items()):
                    if _is_number(value) and math.isinf(value):
                        del metrics[name]
                        part.setdefault("metric_errors", {})[name] = f"the metric returned {value}, not a finite number"
        problem = record_problem(json.loads(json.dumps(record, default=str)), str(record.get("key")))
        if problem:
            raise RecordError(f"refusing to store an invalid record for job {record.get('key')}: {problem}")
        target = self.path(record["key"])
        try:
            self.jobs_dir.mkdir(parents=True, exist_ok=True)
            _write_atomic(target, json.dumps(record, indent=1, default=str))
        except OSError as exc:
            raise OmniadError(f"cannot write job record {target} ({exc.strerror or exc}); "
                              "the records written so far are kept: free space or fix permissions and rerun") from None
        return target

    def _load(self, path: Path) -> dict[str, Any]:
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RecordError(f"not valid JSON ({exc}); truncated or corrupted") from None
        except OSError as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise RecordError(f"cannot be read ({exc.strerror or exc})") from None
        problem = record_problem(data, path.stem)
        if problem:
            raise RecordError(problem)
        return data

    def get(self, key: str) -> dict[str, Any] | None:
        """The record of ``key``; None if there is none; ``RecordError`` if it exists but is unusable."""
        try:
            return self._load(self.path(key))
        except FileNotFoundError:
            return None

    def fingerprint(self, key: str) -> tuple[int, int, int] | None:
        """Identity of the record file (inode, mtime, size): changes whenever it is rewritten."""
        try:
            st = self.path(key).stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def scan(self) -> StoreScan:
        """Every usable record and every unusable one (temp files and other names are ignored)."""
        out = StoreScan()
        if not self.jobs_dir.is_dir():
            return out
        for path in sorted(self.jobs_dir.glob("*.json")):
            if not KEY_RE.fullmatch(path.stem):
                continue  # temp files of a write in progress, or files that are not ours
            try:
                out.records[path.stem] = self._load(path)
            except FileNotFoundError:
                continue  # replaced or removed while we looked
            except RecordError as exc:
                out.problems.append(RecordProblem(path, str(exc)))
        return out

    def records(self) -> list[dict[str, Any]]:
        """The usable records (see ``scan`` for the unusable ones)."""
        return list(self.scan().records.values())

    def needs_run(self, job: Job, rerun: str, record: Any = _READ) -> bool:
        """Whether ``job`` must run given its stored ``record`` (None: none usable) and the rerun policy.

        Without ``record`` the store is read; an unusable record counts as none (the job reruns).
        """
        if record is _READ:
            try:
                record = self.get(job.key)
            except RecordError:
                record = None
        if rerun == "all" or record is None:
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
        try:
            _write_atomic(self.root / "run.json", json.dumps(data, indent=1, default=str))
        except OSError as exc:
            raise OmniadError(f"cannot write {self.root / 'run.json'} ({exc.strerror or exc}); "
                              "pass a writable output_dir / --output-dir") from None
