"""omniad's own components, registered through the same hooks as any plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from omniad.hookspecs import hookimpl

if TYPE_CHECKING:
    from omniad.registry import Registrar

_M = "omniad.builtins.metrics"
_D = "omniad.builtins.tabular_data"
_T = "omniad.builtins.tabular_detectors"


@hookimpl
def omniad_register_metrics(registry: Registrar) -> None:
    sample = {"modality": "any", "level": "sample", "demo": True}
    registry.add(id="core.auroc", target=f"{_M}:AUROC", short_name="AUROC", summary="Area under the ROC curve over sample scores", **sample)
    registry.add(id="core.aupr", target=f"{_M}:AUPR", short_name="AUPR", summary="Average precision (area under the PR curve, no interpolation) over sample scores", **sample)
    registry.add(id="core.f1_max", target=f"{_M}:F1Max", short_name="F1-max", summary="Best F1 over all thresholds, with that threshold", **sample)
    registry.add(
        id="core.prf_at_threshold", target=f"{_M}:PRFAtThreshold", params=f"{_M}:ThresholdParams",
        short_name="F1@t", modality="any", summary="Precision, recall and F1 at a fixed threshold",
    )
    registry.add(
        id="core.prf_at_decision", target=f"{_M}:PRFAtDecision", short_name="F1@decision", modality="any",
        summary="Precision, recall and F1 of the detector's own 0/1 decisions (its published decision rule)",
        tags=("opt-in",),
    )
    registry.add(
        id="core.severity_spearman", target=f"{_M}:SeveritySpearman", short_name="Sev-rho", modality="any",
        summary="Spearman correlation between score and severity level (multilevel anomalies)",
        reference="MAD-Bench severity alignment", tags=("opt-in",),
    )
    local = {"modality": "any", "level": "local"}
    registry.add(id="core.local_auroc", target=f"{_M}:LocalAUROC", short_name="local AUROC", summary="AUROC over all localization elements pooled (pixel AUROC, per-timestep AUROC)", **local)
    registry.add(id="core.local_aupr", target=f"{_M}:LocalAUPR", short_name="local AUPR", summary="Average precision over all localization elements pooled", **local)
    registry.add(id="core.local_f1_max", target=f"{_M}:LocalF1Max", short_name="local F1-max", summary="Best F1 over localization elements pooled", **local)


@hookimpl
def omniad_register_datasets(registry: Registrar) -> None:
    registry.add(
        id="core.blobs", target=f"{_D}:Blobs", params=f"{_D}:BlobsParams", modality="tabular",
        split_seed_param="seed",
        summary="Synthetic Gaussian clusters with scattered/shifted/local anomalies and severity levels",
        demo=True,
    )
    registry.add(
        id="core.csv_table", target=f"{_D}:CSVTable", params=f"{_D}:CSVTableParams", modality="tabular",
        split_seed_param="seed",
        summary="Numeric feature table (CSV or .npy), labelled by a 0/1 column or unlabelled", needs_data=True,
        path_param="path", reads=(".csv", ".npy"), source_params={"split": "all"},
    )


@hookimpl
def omniad_register_detectors(registry: Registrar) -> None:
    registry.add(
        id="core.knn", target=f"{_T}:KNN", params=f"{_T}:KNNParams", modality="tabular",
        summary="k-nearest-neighbour distance to the training vectors", demo=True,
        reference="Ramaswamy et al., SIGMOD 2000",
    )
    registry.add(
        id="core.mahalanobis", target=f"{_T}:Mahalanobis", params=f"{_T}:MahalanobisParams",
        modality="tabular", summary="Mahalanobis distance to one shrunk Gaussian", demo=True,
    )
    registry.add(
        id="core.random", target=f"{_T}:RandomScores", modality="tabular",
        summary="Uniform random scores (the floor to beat)", demo=True,
    )
