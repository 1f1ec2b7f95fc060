"""What a dataset yields: subsets, each with train / test (and optional validation) splits.

One contract serves every modality because localization is just "one label per element of
the sample": a pixel mask for an image, one label per timestep for a series, per frame for a
video, per point for a point cloud, per line for a log session. The shape of a sample's
``targets`` entry is the shape its localization scores must have.

Sample conventions (what ``Split.samples`` holds, per modality) are documented in
``docs/architecture.md``; the core only requires a sized, indexable sequence.

Label convention everywhere: 1 = anomalous, 0 = normal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from omniad.errors import DataError

#: what ``Split.samples`` may be: any sized, indexable sequence (a list, an array, a lazy loader)
Samples = Sequence[Any] | np.ndarray


def _as_binary(values: Any, what: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == bool:
        return arr.astype(np.int8)
    if arr.size and not np.issubdtype(arr.dtype, np.number):
        raise DataError(f"{what}: labels must be numeric 0/1, got dtype {arr.dtype}")
    if arr.size and not np.isin(arr, (0, 1)).all():
        bad = np.unique(arr[~np.isin(arr, (0, 1))])[:5]
        raise DataError(
            f"{what}: labels must be 0 (normal) or 1 (anomalous), found {bad.tolist()}; "
            "binarise the labels (e.g. labels > 0) before building the split"
        )
    return arr.astype(np.int8)


@dataclass
class Split:
    """Samples with optional ground truth. Detectors only ever see ``samples``.

    ``labels``: one 0/1 label per sample. ``targets``: per-sample localization ground truth
    (binary arrays). ``severity``: optional ordinal level per sample (0 = normal, larger =
    more severe), used by severity-alignment metrics. ``ids`` name samples in reports and
    error messages.
    """

    samples: Samples
    labels: np.ndarray | None = None
    targets: Sequence[np.ndarray] | None = None
    severity: np.ndarray | None = None
    ids: Sequence[str] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.labels is not None:
            self.labels = _as_binary(self.labels, "Split.labels").reshape(-1)
        if self.severity is not None:
            self.severity = np.asarray(self.severity, dtype=float).reshape(-1)

    def __len__(self) -> int:
        return len(self.samples)

    def sample_id(self, index: int) -> str:
        return str(self.ids[index]) if self.ids is not None else f"#{index}"

    def without_labels(self) -> Split:
        """The view a detector gets: same samples, no ground truth."""
        return Split(samples=self.samples, ids=self.ids, meta=dict(self.meta))

    def with_labels_from_targets(self) -> Split:
        """Derive sample labels as "any element anomalous" where only targets are given."""
        if self.labels is not None or self.targets is None:
            return self
        labels = np.array([int(np.any(np.asarray(t) > 0)) for t in self.targets], dtype=np.int8)
        return replace(self, labels=labels)

    def validate(self, where: str) -> Split:
        """Check internal consistency; raise ``DataError`` naming ``where`` and the fix."""
        n = len(self.samples)
        if n == 0:
            raise DataError(f"{where}: split has no samples; check the dataset path and filters")
        for name in ("labels", "severity", "ids"):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise DataError(
                    f"{where}: {n} samples but {len(value)} {name}; "
                    f"each sample needs exactly one entry in {name}"
                )
        if self.targets is not None:
            if len(self.targets) != n:
                raise DataError(
                    f"{where}: {n} samples but {len(self.targets)} localization targets; "
                    "give one target array per sample (all-zero for normal samples)"
                )
            for i, target in enumerate(self.targets):
                _as_binary(target, f"{where}: target of sample {self.sample_id(i)}")
            if self.labels is not None:
                for i, (label, target) in enumerate(zip(self.labels, self.targets, strict=True)):
                    if label == 0 and np.any(np.asarray(target) > 0):
                        raise DataError(
                            f"{where}: sample {self.sample_id(i)} is labelled normal but its "
                            "localization target marks anomalous elements; fix the label or the target"
                        )
        return self

    @property
    def n_anomalous(self) -> int:
        return int(self.labels.sum()) if self.labels is not None else 0


@dataclass
class Subset:
    """An independent unit of evaluation: one MVTec category, one NAB series, one SMD machine.

    A detector is fitted afresh for each subset; metrics are computed per subset and then
    averaged over subsets by the runner.
    """

    name: str
    train: Split
    test: Split
    val: Split | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def labelled(self) -> bool:
        """Whether the test split has ground truth, so that metrics can be computed."""
        return self.test.labels is not None

    def validate(self, dataset_id: str, *, require_anomalies: bool = True) -> Subset:
        """Check both splits; an unlabelled test split is allowed (own data), a labelled one needs anomalies.

        Most real data has no labels: such a subset is fitted and scored like any other, and
        the runner skips the metrics that need labels with one visible line.
        """
        where = f"dataset {dataset_id!r}, subset {self.name!r}"
        self.train.validate(f"{where}, train split")
        self.test = self.test.with_labels_from_targets()
        self.test.validate(f"{where}, test split")
        if self.val is not None:
            self.val.validate(f"{where}, validation split")
        if require_anomalies and self.test.labels is not None and self.test.n_anomalous == 0:
            raise DataError(
                f"{where}: test split has no anomalous samples, so no detection metric is defined; "
                "add anomalies to the test split or drop this subset"
            )
        return self


def whole_subset(
    name: str,
    samples: Samples,
    *,
    ids: Sequence[str] | None = None,
    labels: Any = None,
    targets: Sequence[np.ndarray] | None = None,
    meta: dict[str, Any] | None = None,
) -> Subset:
    """One subset holding everything a source has: test = every sample, train = those not known anomalous.

    What a loader yields for ``omniad fit`` / ``score`` / ``detect`` on a user's own file or
    folder (its card's ``source_params`` select this mode): no split is invented, labels are
    used when there are any, never required.
    """
    test = Split(samples=samples, labels=labels, targets=targets, ids=ids, meta=dict(meta or {})).with_labels_from_targets()
    if test.labels is None or test.n_anomalous == 0:
        train = Split(samples=samples, ids=ids, meta=dict(meta or {}))
    else:
        keep = np.flatnonzero(test.labels == 0)
        if keep.size == 0:  # one labelled test video or series: score it; fitting on it is the user's call
            import warnings

            warnings.warn(f"subset {name!r}: every sample is labelled anomalous; the fit split holds them all "
                          "(fit on other data to use these labels for evaluation)", UserWarning, stacklevel=2)
            keep = np.arange(len(samples))
        train = Split(samples=[samples[int(i)] for i in keep], ids=None if ids is None else [ids[int(i)] for i in keep],
                      meta=dict(meta or {}))
    return Subset(name=name, train=train, test=test, meta=dict(meta or {}))
