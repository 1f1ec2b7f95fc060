"""Registry cards for time-series metrics (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar

_C = "omniad_timeseries.metrics.components"
_P = "omniad_timeseries.metrics.params"
_THRESHOLD = ("threshold-dependent",)


def register(registry: Registrar) -> None:
    common = {"modality": "timeseries", "level": "local", "localization": ("timestep",)}
    vus_ref = "Paparrizos et al., Volume Under the Surface, VLDB 2022 (TSB-AD 1.5 'opt' values)"
    registry.add(
        id="timeseries.vus_pr", target=f"{_C}:VUSPR", params=f"{_P}:VUSParams", short_name="VUS-PR",
        summary="Volume under the range-PR surface over buffer lengths 0..window (TSB-AD's headline metric)",
        reference=vus_ref, demo=True, **common,
    )
    registry.add(
        id="timeseries.vus_roc", target=f"{_C}:VUSROC", params=f"{_P}:VUSParams", short_name="VUS-ROC",
        summary="Volume under the range-ROC surface over buffer lengths 0..window",
        reference=vus_ref, demo=True, **common,
    )
    registry.add(
        id="timeseries.range_f1", target=f"{_C}:RangeF1", params=f"{_P}:RangeF1Params", short_name="R-F1",
        summary="Range-based F1 (existence, overlap, cardinality, positional bias) at a threshold or the oracle best",
        reference="Tatbul et al., Precision and Recall for Time Series, NeurIPS 2018",
        tags=_THRESHOLD, demo=True, **common,
    )
    registry.add(
        id="timeseries.event_f1", target=f"{_C}:EventF1", params=f"{_P}:ThresholdParams", short_name="Event-F1",
        summary="Composite F-score: event-wise recall with point-wise precision, at a threshold or the oracle best",
        reference="Garg et al., An Evaluation of Anomaly Detection and Diagnosis in Multivariate Time Series, TNNLS 2021",
        tags=_THRESHOLD, demo=True, **common,
    )
    registry.add(
        id="timeseries.affiliation_f1", target=f"{_C}:AffiliationF1", params=f"{_P}:GridThresholdParams",
        short_name="Aff-F1",
        summary="Affiliation F1: precision/recall from distances to the nearest true/predicted event in its zone",
        reference="Huet, Navarro and Rossi, Local Evaluation of Time Series Anomaly Detection Algorithms, KDD 2022",
        tags=_THRESHOLD, demo=True, **common,
    )
    registry.add(
        id="timeseries.pa_f1", target=f"{_C}:PointAdjustedF1", params=f"{_P}:ThresholdParams", short_name="PA-F1",
        summary="Point-adjusted F1 — flatters (random scores score high); report only beside VUS-PR",
        reference="Xu et al., WWW 2018; critique: Kim et al., AAAI 2022",
        tags=_THRESHOLD, honest=False, **common,
    )
    registry.add(
        id="timeseries.pa_k_f1", target=f"{_C}:PAKF1", params=f"{_P}:PAKParams", short_name="PA%K-F1",
        summary="F1 with point adjustment only for ranges more than K % detected (default: area over K)",
        reference="Kim et al., Towards a Rigorous Evaluation of Time-series Anomaly Detection, AAAI 2022",
        tags=_THRESHOLD, honest=False, **common,
    )
