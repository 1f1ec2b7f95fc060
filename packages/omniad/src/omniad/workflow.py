"""omniad on a user's own data: fit a detector on a source, score another, or both in one step.

The same three verbs in Python and on the command line (``omniad fit / score / detect``):

    model = omniad.fit("timeseries.sub_pca", "cpu_last_week.csv")     # thresholds chosen here
    model.save("cpu-model")
    results = omniad.score("cpu-model", "cpu_today.csv", output_dir="out")  # tables, maps, pictures

A source is a path (the loader is picked from it and printed), a dataset id, a
``SourceSpec``, or samples in memory. ``fit`` fits one model on the fit data of every subset
the source yields, holds out a share to choose the decision thresholds (``omniad.decision``)
and remembers how the data was read, so ``score`` reads a new file the same way.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from omniad.data import Split
from omniad.dataset import Dataset
from omniad.decision import DecisionRule, Decisions, apply, calibrate, calibration_split
from omniad.detector import Detector
from omniad.errors import ConfigError, DataError, OmniadError
from omniad.results import SourceResults, collect, write
from omniad.sources import (
    ResolvedSource,
    SourceSpec,
    detector_kind,
    open_dataset,
    resolve,
    samples_of,
    subsets,
    with_path,
)

Say = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


@dataclass
class Read:
    """A source after reading: named splits, the loader that read them (if any) and what it learned."""

    parts: list[tuple[str, Split]]
    dataset: Dataset | None
    resolved: ResolvedSource | None
    localization: str | None
    #: what the loader repaired or dropped (``Subset.meta["counts"]``), one line per subset that has any
    notes: list[str] = field(default_factory=list)

    def source_json(self) -> dict[str, Any] | None:
        if self.resolved is None or self.dataset is None:
            return None
        return {**self.resolved.to_json(), "state": self.dataset.export_source_state()}


def _in_memory(samples: Any, detector: Detector, localization: str | None) -> Read:
    where = f"{detector.where}: the source"
    coerced = detector._coerce(samples, where)
    if isinstance(coerced, (str, bytes)) or not hasattr(coerced, "__len__") or len(coerced) == 0:
        raise DataError(f"{where}: got no samples; pass a path, a dataset id, or a non-empty sequence of samples")
    split = Split(samples=coerced, ids=[f"#{i}" for i in range(len(coerced))])
    return Read([("", split)], None, None, localization)


def _localization_of(detector: Detector) -> str | None:
    modality, _ = detector_kind(detector)
    return {"timeseries": "timestep"}.get(modality or "")


def read_source(
    source: Any, detector: Detector, role: str, *, loader: str | None = None,
    source_params: dict[str, Any] | None = None, say: Say = _stderr,
) -> Read:
    """Read ``source`` for ``role`` ("fit": each subset's fit data; "score": all its samples)."""
    from omniad.plugins import get_registry

    if not isinstance(source, (str, Path, SourceSpec)):
        return _in_memory(source, detector, _localization_of(detector))
    registry = get_registry()
    state = None
    if isinstance(source, SourceSpec):
        spec = source
    else:
        spec = SourceSpec.parse(str(source), source_params, loader)
    if role == "score" and detector.source_ is not None and spec.path is not None and spec.loader is None:
        resolved = with_path(detector.source_, spec.path, registry)
        if spec.params:
            resolved = ResolvedSource(resolved.entry, resolved.entry.validate_params(
                {**resolved.params, **spec.params}).model_dump(mode="json"), resolved.note)
        state = detector.source_.get("state")
    else:
        modality, kind = detector_kind(detector)
        resolved = resolve(spec, registry, modality=modality, sample_kind=kind)
    say(resolved.note)
    dataset = open_dataset(resolved, state)
    from omniad.runner.notes import subset_counts

    parts, notes = [], []
    for subset in subsets(dataset):
        split = subset.train if role == "fit" else subset.test
        parts.append((subset.name, split))
        if counts := subset_counts(subset.meta):  # the whole file's, whichever split is used
            notes.append(f"{subset.name or 'the source'} as read by {resolved.id}: "
                         + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if not parts:
        raise DataError(f"{spec.describe()}: the loader {resolved.id} found no data; check the path and its parameters")
    return Read(parts, dataset, resolved, resolved.card.localization or _localization_of(detector), notes)


def _detector(detector: str | Detector, params: dict[str, Any] | None, seed: int | None, device: str) -> Detector:
    if isinstance(detector, Detector):
        if params:
            raise ConfigError("pass params only with a detector id; this detector is already configured")
        return detector
    from omniad.plugins import get_registry

    return get_registry().get("detector", detector).create(params or {}, device=device, seed=seed)


def fit(
    detector: str | Detector,
    source: Any,
    *,
    params: dict[str, Any] | None = None,
    threshold: str | DecisionRule = "quantile:0.99",
    holdout: float = 0.2,
    loader: str | None = None,
    source_params: dict[str, Any] | None = None,
    seed: int | None = 0,
    device: str = "auto",
    say: Say = _stderr,
) -> Detector:
    """Fit ``detector`` on ``source`` and choose its decision thresholds; returns the fitted detector.

    ``threshold``: ``quantile:q`` on a held-out share ``holdout`` of the fit data (default),
    ``contamination:c`` on all of it, or ``pot:risk``. Save the result with ``.save(dir)``.
    """
    det = _detector(detector, params, seed, device)
    rule = threshold if isinstance(threshold, DecisionRule) else DecisionRule.parse(threshold, holdout)
    read = read_source(source, det, "fit", loader=loader, source_params=source_params, say=say)
    for note in read.notes:
        say(f"note: {note}")
    samples = [s for _, split in read.parts for s in samples_of(split)]
    if not samples:
        raise DataError(f"{det.where}: the source has no samples to fit on (every sample is labelled anomalous?)")
    fit_part, cal_part, how = calibration_split(samples, rule, localization=read.localization, seed=seed)
    det.fit(fit_part)
    try:
        cal_scores = det.score(cal_part)
    except OmniadError as exc:
        if cal_part is fit_part:
            raise
        say(f"calibrating on the held-out part failed ({exc}); refitting on all of it, thresholds in-sample")
        det.fit(samples)
        cal_scores, how = det.score(samples), f"in-sample ({len(samples)} samples)"
    det.thresholds_ = calibrate(cal_scores, rule, how)
    det.source_ = read.source_json()
    for level in ("sample", "element"):
        if level in det.thresholds_:
            say(f"{det.thresholds_[level].describe()}")
    return det


def _load(model: str | Path | Detector, device: str) -> Detector:
    if isinstance(model, Detector):
        return model
    return Detector.load(model, device=device)


def _metrics(results: SourceResults, labelled: list[tuple[Split, Decisions]]) -> None:
    """Honest metrics where the source has labels; the saved decisions' precision / recall / F1 beside them."""
    from omniad.metrics.ranking import average_precision, roc_auc
    from omniad.metrics.thresholds import precision_recall_f1

    y = np.concatenate([s.labels for s, _ in labelled if s.labels is not None])
    scores = np.concatenate([d.scores.sample for _, d in labelled])
    if 0 < y.sum() < y.size:
        results.metrics["sample_auroc"] = roc_auc(y, scores)
        results.metrics["sample_aupr"] = average_precision(y, scores)
    if all(d.sample is not None for _, d in labelled) and 0 < y.sum() < y.size:  # one labelled series: y = [1]
        decided = np.concatenate([d.sample for _, d in labelled if d.sample is not None])
        p, r, f = precision_recall_f1(y, decided, 0.5)
        results.metrics.update(sample_precision=p, sample_recall=r, sample_f1=f)
    with_targets = [(s, d) for s, d in labelled if s.targets is not None and d.scores.local is not None]
    if with_targets:
        yt = np.concatenate([np.asarray(t).reshape(-1) for s, _ in with_targets for t in s.targets])  # type: ignore[union-attr]
        st = np.concatenate([np.asarray(a).reshape(-1) for _, d in with_targets for a in d.scores.local])  # type: ignore[union-attr]
        if yt.size == st.size and 0 < yt.sum() < yt.size:
            results.metrics["element_auroc"] = roc_auc(yt, st)
            results.metrics["element_aupr"] = average_precision(yt, st)
            if all(d.element is not None for _, d in with_targets):
                de = np.concatenate([a.reshape(-1) for _, d in with_targets for a in d.element])  # type: ignore[union-attr]
                p, r, f = precision_recall_f1(yt, de, 0.5)
                results.metrics.update(element_precision=p, element_recall=r, element_f1=f)


def score(
    model: str | Path | Detector,
    source: Any,
    *,
    output_dir: str | Path | None = None,
    loader: str | None = None,
    source_params: dict[str, Any] | None = None,
    pictures: int = 8,
    device: str = "auto",
    say: Say = _stderr,
) -> SourceResults:
    """Score every sample of ``source`` with a fitted model; per-sample and per-element scores and decisions.

    With ``output_dir``: ``samples.csv/.parquet``, ``elements.csv/.parquet``, ``maps/``
    (pixel maps), ``pictures/`` and ``summary.json`` are written there.
    """
    det = _load(model, device)
    read = read_source(source, det, "score", loader=loader, source_params=source_params, say=say)
    out = Path(output_dir) if output_dir is not None else None
    results = SourceResults()
    results.notes.extend(read.notes)
    labelled = []
    for name, split in read.parts:
        raw = det.score(split.samples)
        decisions = apply(raw, det.thresholds_) if det.thresholds_ else Decisions(raw, None, None, None, None)
        collect(results, name, split, decisions, read.dataset, out)
        if split.labels is not None:
            labelled.append((split, decisions))
        if out is not None and read.dataset is not None and pictures > 0:
            folder = out / "pictures" / (name or "source")
            try:
                results.pictures.extend(read.dataset.render_results(split, decisions, folder, max_items=pictures))
            except Exception as exc:  # pictures are a nicety; the tables are the result
                results.notes.append(f"pictures of {name or 'the source'} could not be drawn ({type(exc).__name__}: {exc})")
    if not det.thresholds_:
        results.notes.append("the model has no thresholds (fitted without omniad.fit / `omniad fit`): scores only, "
                             "no decisions")
    if labelled:
        _metrics(results, labelled)
    else:
        results.notes.append("the source has no labels: metrics skipped (scores and decisions only)")
    if out is not None:
        summary = {
            "detector": {"id": det.component_id, "params": det.params.model_dump(mode="json")},
            "source": None if read.resolved is None else {**read.resolved.to_json(), "note": read.resolved.note},
            "thresholds": {k: t.to_json() for k, t in det.thresholds_.items()},
        }
        write(results, out, summary)
    for note in results.notes:
        say(f"note: {note}")
    return results


def head_part(samples: list[Any], fraction: float, localization: str | None) -> list[Any]:
    """The first ``fraction`` of the data, which the user says is normal: of the samples, or of each series."""
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"normal_first={fraction} must be in (0, 1): the leading share of the data that is normal")
    if localization == "timestep" and len(samples) < 5:
        heads = [x[: max(2, round(len(x) * fraction))] for x in samples]
        return heads
    k = max(1, round(len(samples) * fraction))
    return samples[:k]


def detect(
    detector: str | Detector,
    source: Any,
    *,
    normal: Any = None,
    normal_first: float | None = None,
    contamination: float | None = None,
    threshold: str | None = None,
    params: dict[str, Any] | None = None,
    output_dir: str | Path | None = None,
    loader: str | None = None,
    source_params: dict[str, Any] | None = None,
    pictures: int = 8,
    seed: int | None = 0,
    device: str = "auto",
    say: Say = _stderr,
) -> tuple[Detector, SourceResults]:
    """One step on unlabelled data: fit on the part named normal, or on everything with a contamination share, then score.

    ``normal``: another source of normal data; ``normal_first``: the leading share of
    ``source`` itself (first samples, or first timesteps of each series); neither: fit on
    all of ``source`` assuming ``contamination`` (default 0.05) of it is anomalous. The
    fitted model is saved in ``<output_dir>/model`` for reuse.
    """
    chosen = sum(x is not None for x in (normal, normal_first))
    if chosen > 1:
        raise ConfigError("name the normal data once: either normal (a source) or normal_first (a share)")
    if contamination is not None and (chosen or threshold is not None):
        raise ConfigError("contamination applies when no normal part is named and no threshold is given")
    det = _detector(detector, params, seed, device)
    if normal is not None:
        fitted = fit(det, normal, threshold=threshold or "quantile:0.99", loader=loader,
                     source_params=source_params, seed=seed, device=device, say=say)
    elif normal_first is not None:
        read = read_source(source, det, "fit", loader=loader, source_params=source_params, say=say)
        samples = [s for _, split in read.parts for s in samples_of(split)]
        head = head_part(samples, normal_first, read.localization)
        say(f"fitting on the first {normal_first:.0%} of the data, named normal")
        fitted = fit(det, head, threshold=threshold or "quantile:0.99", seed=seed, say=say)
        fitted.source_ = read.source_json()
    else:
        if threshold is None:
            share = 0.05 if contamination is None else contamination
            if contamination is None:
                say("no normal part named: fitting on all of the data, assuming 5% of it is anomalous "
                    "(set contamination, or name the normal part)")
            threshold = f"contamination:{share}"
        fitted = fit(det, source, threshold=threshold, loader=loader, source_params=source_params,
                     seed=seed, device=device, say=say)
    if output_dir is not None:
        fitted.save(Path(output_dir) / "model")
    results = score(fitted, source, output_dir=output_dir, loader=loader, source_params=source_params,
                    pictures=pictures, device=device, say=say)
    return fitted, results
