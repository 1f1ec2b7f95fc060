"""omniad: one contract, one runner and one results table for anomaly detection.

The public API is re-exported here; importing ``omniad`` is cheap (no torch).
"""

from typing import TYPE_CHECKING

from omniad.data import Split, Subset
from omniad.dataset import Dataset
from omniad.detector import Detector
from omniad.errors import (
    ConfigError,
    DataError,
    MissingDependencyError,
    NotFittedError,
    OmniadError,
    UnknownComponentError,
)
from omniad.hookspecs import hookimpl
from omniad.metric import Metric
from omniad.params import NoParams, Params
from omniad.plugins import get_registry
from omniad.registry import DatasetCard, DetectorCard, MetricCard
from omniad.scores import Scores
from omniad.version import __version__

if TYPE_CHECKING:
    from omniad.results import SourceResults


def create_detector(component_id: str, params: dict | None = None, **kwargs: object) -> Detector:
    """Instantiate a registered detector by id, e.g. ``create_detector("core.knn", {"n_neighbors": 3})``."""
    return get_registry().get("detector", component_id).create(params, **kwargs)


def create_dataset(component_id: str, params: dict | None = None) -> Dataset:
    return get_registry().get("dataset", component_id).create(params)


def create_metric(component_id: str, params: dict | None = None) -> Metric:
    return get_registry().get("metric", component_id).create(params)


def fit(detector: str | Detector, source: object, **kwargs: object) -> Detector:
    """Fit on a path, dataset id or samples, choosing decision thresholds; see ``omniad.workflow.fit``."""
    from omniad import workflow

    return workflow.fit(detector, source, **kwargs)  # type: ignore[arg-type]


def score(model: str | Detector, source: object, **kwargs: object) -> "SourceResults":
    """Per-sample and per-element scores and decisions of a source; see ``omniad.workflow.score``."""
    from omniad import workflow

    return workflow.score(model, source, **kwargs)  # type: ignore[arg-type]


def detect(detector: str | Detector, source: object, **kwargs: object) -> "tuple[Detector, SourceResults]":
    """Fit and score unlabelled data in one step; see ``omniad.workflow.detect``."""
    from omniad import workflow

    return workflow.detect(detector, source, **kwargs)  # type: ignore[arg-type]


def load_detector(path: str, *, device: str = "auto") -> Detector:
    """Load a detector saved with ``Detector.save`` (never unpickles)."""
    return Detector.load(path, device=device)


__all__ = [
    "ConfigError",
    "DataError",
    "Dataset",
    "DatasetCard",
    "Detector",
    "DetectorCard",
    "Metric",
    "MetricCard",
    "MissingDependencyError",
    "NoParams",
    "NotFittedError",
    "OmniadError",
    "Params",
    "Scores",
    "Split",
    "Subset",
    "UnknownComponentError",
    "__version__",
    "create_dataset",
    "create_detector",
    "create_metric",
    "detect",
    "fit",
    "get_registry",
    "hookimpl",
    "load_detector",
    "score",
]
