"""Running one job: fit and score per subset, compute metrics, and never raise.

Whatever goes wrong inside a job (bad parameters for this dataset, NaN scores, a CUDA
error, a bug) ends up as ``status="failed"`` with the error text in the record, so the
grid goes on. Only Ctrl-C escapes, and the records already written stay.
"""

from __future__ import annotations

import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from omniad import progress
from omniad.crashmarks import ExitCalled, exits_raise
from omniad.data import Split, Subset
from omniad.device import check_device_request, resolve_device
from omniad.errors import DataError, MissingDependencyError, OmniadError
from omniad.metric import Metric
from omniad.plugins import get_registry
from omniad.registry import DetectorCard, Entry
from omniad.runner.jobs import Job
from omniad.runner.notes import capture_warnings, data_note, subset_counts, summarize_warnings
from omniad.runner.pictures import stored_path
from omniad.scores import Scores, ScoresError, ScoresTypeError
from omniad.version import __version__

RECORD_VERSION = 1


def peak_rss_mb() -> float | None:
    """Peak resident memory of this process so far (MB); None where the OS does not say."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / 1024 if sys.platform != "darwin" else peak / 2**20, 1)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def environment(entries: list[Entry]) -> dict[str, Any]:
    env: dict[str, Any] = {
        "omniad": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(terse=True),
        "plugins": {e.plugin: e.plugin_version for e in entries},
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        env["torch"] = torch.__version__
        if torch.cuda.is_available():
            env["gpu"] = torch.cuda.get_device_name(0)
    return env


def _flatten(label: str, value: Any) -> dict[str, float]:
    if isinstance(value, dict):
        items = list(value.items())
        out = {label: float(items[0][1])}
        out.update({f"{label}.{k}": float(v) for k, v in items[1:]})
        return out
    return {label: float(value)}


def _metric_values(
    metrics: list[tuple[str, Metric]], truth: Split, scores: Scores
) -> tuple[dict[str, float], dict[str, str]]:
    values: dict[str, float] = {}
    errors: dict[str, str] = {}
    if truth.labels is None:  # own data: nothing to compare with, said once per metric
        return values, {label: "not computed: this data has no labels" for label, _ in metrics}
    for label, metric in metrics:
        try:
            values.update(_flatten(label, metric(truth, scores)))
        except OmniadError as exc:
            errors[label] = str(exc)
        except Exception as exc:  # a metric bug must not lose the detector's result
            errors[label] = f"{type(exc).__name__}: {exc}"
    return values, errors


def _whose(det_entry: Entry) -> tuple[str, str]:
    """How a message names a detector, and the distribution to report its bug to."""
    from omniad.plugins import distribution_of

    return f"detector {det_entry.id!r} (plugin {det_entry.plugin})", distribution_of(det_entry.plugin)


def _score(detector: Any, det_entry: Entry, split: Split, **checks: Any) -> Scores:
    """``detector.score``, checked here whatever the plugin overrode: a Scores of numbers, one per sample.

    Problems found by the base class or here are said with the detector's id, its plugin and
    its distribution, since a message about a bare array leaves a grid's user nowhere to look.
    """
    who, dist = _whose(det_entry)
    try:
        scores = detector.score(split.samples)
        if not isinstance(scores, Scores):  # a plugin overrode score() itself
            scores = Scores(sample=scores)
        return scores.validate(len(split), f"{who}: score()", **checks)
    except ScoresTypeError as exc:  # raised inside the plugin's code: say whose scores they were
        raise DataError(
            f"{who}: score() returned {exc.given} for Scores.{exc.field}; it must return numbers, one float "
            f"score per sample (detector from {dist})"
        ) from None
    except ScoresError as exc:
        raise DataError(f"{who}: score(): {exc.problem} (detector from {dist})") from None


def _save_model(detector: Any, entry: Entry, job: Job, dataset: Any, subset: Subset, output_dir: Path) -> str:
    """The fitted model with thresholds for reuse (``omniad score``); calibrated on validation data if any.

    Without a validation split the thresholds come from the training scores (in-sample,
    said in the saved calibration note), so the grid's fit stays the benchmark's fit.
    """
    from omniad.decision import DecisionRule, calibrate
    from omniad.results import safe_name

    normal = subset.val if subset.val is not None else subset.train
    how = "validation" if subset.val is not None else f"in-sample training ({len(normal)} samples)"
    detector.thresholds_ = calibrate(_score(detector, entry, normal), DecisionRule("quantile", 0.99), how)
    detector.source_ = {
        "loader": job.dataset.id,
        "params": job.dataset.params,
        "state": dataset.export_source_state(),
    }
    folder = output_dir / "models" / job.key / safe_name(subset.name)
    detector.save(folder)
    return stored_path(folder, output_dir)


def _save_scores(detector: Any, name: str, split: Split, scores: Scores, dataset: Any, folder: Path) -> None:
    from omniad.decision import Decisions, apply
    from omniad.results import SourceResults, collect, write

    decided = (
        apply(scores, detector.thresholds_)
        if detector.thresholds_
        else Decisions(scores, None, None, None, None)
    )
    results = SourceResults()
    collect(results, name, split, decided, dataset, folder)
    write(
        results,
        folder,
        {
            "detector": detector.component_id,
            "subset": name,
            "thresholds": {k: t.to_json() for k, t in detector.thresholds_.items()},
        },
    )


def _run_subset(
    job: Job,
    det_entry: Entry,
    dataset: Any,
    metrics: list[tuple[str, Metric]],
    subset: Subset,
    device: str,
    artifacts: Path | None,
    render: bool,
    output_dir: Path | None = None,
    scored: list[tuple[Subset, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Fit on ``subset`` and score its test split, or each of ``scored`` (a separate score source).

    One record per scored part: the subset's own, or one per subset of the score source.
    """
    card = det_entry.card
    assert isinstance(card, DetectorCard)
    detector = det_entry.create(job.detector.params, device=device, seed=job.seed)
    fit_samples = subset.train.samples if card.fit_on == "train" else subset.test.samples
    t0 = time.perf_counter()
    detector.fit(fit_samples)
    fit_s = time.perf_counter() - t0
    model = (
        _save_model(detector, det_entry, job, dataset, subset, output_dir)
        if job.save_models and output_dir
        else None
    )
    parts = scored if scored is not None else [(subset, dataset)]
    records = []
    for part, part_dataset in parts:
        name = part.name if scored is None else f"{subset.name} → {part.name}"
        record: dict[str, Any] = {"name": name, "n_train": len(subset.train), "n_test": len(part.test)}
        t1 = time.perf_counter()
        shapes = [np.shape(t) for t in part.test.targets] if part.test.targets is not None else None
        scores = _score(detector, det_entry, part.test, target_shapes=shapes, ids=part.test.ids)
        t2 = time.perf_counter()
        record["device"] = detector._device or "cpu"  # unresolved means it never touched torch
        adjusted = getattr(detector, "adjusted_params", None)
        if adjusted:  # defaults the data was too small for, lowered by Detector._limit
            record["adjusted_params"] = dict(adjusted)
        if provenance := detector.provenance():
            record["provenance"] = provenance
        record["fit_s"] = round(fit_s, 4)
        record["score_s"] = round(t2 - t1, 4)
        record["metrics"], record["metric_errors"] = _metric_values(metrics, part.test, scores)
        if part.test.labels is None:
            record["unlabelled"] = True
        if model is not None:
            record["model"] = model
        if job.save_scores and output_dir is not None:
            from omniad.results import safe_name

            folder = output_dir / "scores" / job.key / safe_name(name)
            _save_scores(detector, part.name, part.test, scores, part_dataset, folder)
            record["scores"] = stored_path(folder, output_dir)
        if render and artifacts is not None:
            try:
                paths = part_dataset.render_examples(
                    part, scores, artifacts / part.name, max_examples=job.examples
                )
                # named relative to the output directory (artifacts = <output>/artifacts/<key>), so the
                # report finds them whatever the working directory was or is
                record["artifacts"] = [stored_path(p, artifacts.parents[1]) for p in paths]
            except Exception as exc:  # pictures are a nicety; never fail the job for them
                record["artifact_error"] = f"{type(exc).__name__}: {exc}"
        record["status"] = "ok"
        records.append(record)
    return records


def _guarded_subset(
    job: Job,
    det_entry: Entry,
    dataset: Any,
    metrics: list[tuple[str, Metric]],
    subset: Subset,
    device: str,
    artifacts: Path | None,
    render: bool,
    output_dir: Path | None = None,
    scored: list[tuple[Subset, Any]] | None = None,
) -> list[dict[str, Any]]:
    """``_run_subset``, with a failure recorded as this subset's result (the others go on)."""
    try:
        with exits_raise():
            return _run_subset(
                job, det_entry, dataset, metrics, subset, device, artifacts, render, output_dir, scored
            )
    except OmniadError as exc:
        return [{"name": subset.name, "status": "failed", "error": str(exc)}]
    # a crash on one series must not lose the others; an os._exit would have ended the whole runner
    except (ExitCalled, Exception) as exc:
        if isinstance(exc, ExitCalled):
            who, dist = _whose(det_entry)
            error = f"{who}: {exc}; recorded as failed instead (detector from {dist})"
        else:
            error = f"{type(exc).__name__}: {exc}"
        return [{"name": subset.name, "status": "failed", "error": error, "traceback": traceback.format_exc(limit=20)}]


def _score_parts(job: Job, det_entry: Entry) -> list[tuple[Subset, Any]] | None:
    """The subsets of the job's separate score source (None: score each fit subset's own test split)."""
    if job.dataset.score is None:
        return None
    from omniad.sources import SourceSpec, open_dataset, resolve, subsets

    spec = SourceSpec.from_config(job.dataset.score, f"dataset {job.dataset.label}: score source")
    card = det_entry.card
    resolved = resolve(
        spec, get_registry(), modality=card.modality, sample_kind=getattr(card, "sample_kind", None)
    )
    dataset = open_dataset(resolved)
    return [(sub, dataset) for sub in subsets(dataset)]


def _paired(fit_name: str, n_fit: int, parts: list[tuple[Subset, Any]]) -> list[tuple[Subset, Any]]:
    """One fit subset scores every part; several fit subsets each score the part of the same name."""
    if n_fit == 1:
        return parts
    same = [p for p in parts if p[0].name == fit_name]
    if not same:
        raise DataError(
            f"the score source has no subset named {fit_name!r} (it has "
            f"{', '.join(p[0].name for p in parts)}); with several fit subsets each is scored on the "
            "score source's subset of the same name"
        )
    return same


def _aggregate(subsets: list[dict[str, Any]]) -> dict[str, float]:
    columns: dict[str, list[float]] = {}
    for sub in subsets:
        for key, value in sub.get("metrics", {}).items():
            columns.setdefault(key, []).append(value)
    return {k: float(np.mean(v)) for k, v in columns.items()}


def adjusted_note(subsets: list[dict[str, Any]]) -> str:
    """One readable line for the defaults that were lowered, so a label never hides them."""
    seen: dict[str, list[dict[str, Any]]] = {}
    for sub in subsets:
        for name, change in sub.get("adjusted_params", {}).items():
            seen.setdefault(name, []).append(change)
    parts = []
    for name, changes in sorted(seen.items()):
        used = sorted({c["used"] for c in changes})
        used_text = str(used[0]) if len(used) == 1 else f"{used[0]}..{used[-1]}"
        verb = "default lowered" if isinstance(changes[0]["requested"], (int, float)) else "replaced"
        parts.append(
            f"{name} {changes[0]['requested']}→{used_text} ({verb} in {len(changes)} of "
            f"{len(subsets)} subsets: {changes[0]['why']})"
        )
    return "; ".join(parts)


def record_header(job: Job) -> dict[str, Any]:
    """The fields every record of ``job`` starts with, whoever writes it (a job, a dead worker)."""
    return {
        "record_version": RECORD_VERSION,
        "key": job.key,
        "detector": job.detector.to_dict(),
        "dataset": job.dataset.to_dict(),
        "seed": job.seed,
        "requested_metrics": job.metric_names,
    }


def failed_record(job: Job, error: str) -> dict[str, Any]:
    """The record of a job that never got to run or whose worker died (the store accepts it)."""
    return {**record_header(job), "status": "failed", "error": error, "metrics": {}, "subsets": []}


def execute_job(job: Job, output_dir: str | Path | None = None) -> dict[str, Any]:
    """Run ``job`` and return its record (a JSON-ready dict); never raises except on Ctrl-C."""
    started = time.perf_counter()
    record: dict[str, Any] = {
        **record_header(job),
        "metric_ids": {m.label: m.id for m in job.metrics},
        "started_at": _now(),
    }
    subsets: list[dict[str, Any]] = []
    entries: list[Entry] = []
    loading_warnings: list[str] = []  # those of a subset whose loading failed
    try:
        registry = get_registry()
        det_entry = registry.get("detector", job.detector.id)
        ds_entry = registry.get("dataset", job.dataset.id)
        entries = [det_entry, ds_entry]
        card = det_entry.card
        assert isinstance(card, DetectorCard)
        det_entry.check_requires()
        device = check_device_request(job.device)
        if card.gpu == "required" and not resolve_device(device).startswith("cuda"):
            record.update(
                status="skipped", error=f"detector {det_entry.id} requires a GPU and none is available"
            )
            return record
        dataset = ds_entry.create(job.dataset.params)
        metric_objs = []
        for m in job.metrics:
            m_entry = registry.get("metric", m.id)
            entries.append(m_entry)
            metric_objs.append((m.label, m_entry.create(m.params)))
        artifacts = Path(output_dir) / "artifacts" / job.key if output_dir is not None else None
        out_dir = Path(output_dir) if output_dir is not None else None
        with capture_warnings() as score_warnings:
            score_parts = _score_parts(job, det_entry)
        fit_subsets = list(dataset.subsets()) if score_parts is not None else None
        source = iter(fit_subsets) if fit_subsets is not None else dataset.subsets()
        while True:
            with capture_warnings() as loading_warnings:  # what the loader said about this subset
                subset = next(source, None)
            if subset is None:
                break
            progress.report(progress.JOB, len(subsets) + 1, None, "subsets")
            with capture_warnings() as running_warnings:
                scored = None
                if score_parts is not None and fit_subsets is not None:
                    scored = _paired(subset.name, len(fit_subsets), score_parts)
                subs = _guarded_subset(
                    job,
                    det_entry,
                    dataset,
                    metric_objs,
                    subset,
                    device,
                    artifacts,
                    len(subsets) < 2 and job.examples > 0,
                    out_dir,
                    scored,
                )
            for sub in subs:
                sub["counts"] = subset_counts(subset.meta)  # a count it cannot read warns on the console
                sub["warnings"] = summarize_warnings(loading_warnings + running_warnings + score_warnings)
                subsets.append(sub)
            loading_warnings.clear()
        failed = [s for s in subsets if s["status"] != "ok"]
        if not subsets:
            record.update(status="failed", error="the dataset yielded no subsets")
        elif len(failed) == len(subsets):
            record.update(
                status="failed", error=f"all {len(subsets)} subsets failed; first: {failed[0]['error']}"
            )
        else:
            record["status"] = "partial" if failed else "ok"
            if failed:
                record["error"] = (
                    f"{len(failed)} of {len(subsets)} subsets failed; first: {failed[0]['error']}"
                )
    except MissingDependencyError as exc:
        record.update(status="skipped", error=str(exc))
    except OmniadError as exc:
        record.update(status="failed", error=str(exc))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        record.update(
            status="failed", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc(limit=20)
        )
    ok = [s for s in subsets if s.get("status") == "ok"]
    if record.get("status") == "failed" and ok:  # the dataset broke off after some subsets
        record["status"] = "partial"
    record["subsets"] = subsets
    record["metrics"] = _aggregate(ok)
    record["metric_errors"] = {k: v for s in ok for k, v in s.get("metric_errors", {}).items()}
    for label, why in job.skipped_metrics:
        record["metric_errors"][label] = f"not computed: {why}"
    record["n_subsets"] = len(subsets)
    if note := adjusted_note(subsets):
        record["adjusted"] = note
    record["data_notes"] = data_note(subsets, summarize_warnings(loading_warnings))
    unlabelled = sum(1 for sub in ok if sub.get("unlabelled"))
    if unlabelled:  # own data: said where the metrics would be, never an empty table without a reason
        note = f"no labels in {unlabelled} of {len(ok)} subsets: metrics not computed there (scores only)"
        record["data_notes"] = "; ".join(x for x in (note, record["data_notes"]) if x)
    record["n_failed_subsets"] = len(subsets) - len(ok)
    record["fit_s"] = round(sum(s.get("fit_s", 0.0) for s in ok), 4)
    record["score_s"] = round(sum(s.get("score_s", 0.0) for s in ok), 4)
    n_scored = sum(s.get("n_test", 0) for s in ok)
    record["samples_per_s"] = round(n_scored / record["score_s"], 3) if record["score_s"] > 0 else None
    record["total_s"] = round(time.perf_counter() - started, 4)
    record["peak_rss_mb"] = peak_rss_mb()
    record["finished_at"] = _now()
    try:
        record["environment"] = environment(entries)
    except Exception:  # provenance is best effort
        record["environment"] = {"omniad": __version__}
    return record
