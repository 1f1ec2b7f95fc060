"""Registry cards for event metrics (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar

_M = "omniad_events.metrics.ranking"


def register(registry: Registrar) -> None:
    sample = {"modality": "events", "level": "sample"}
    registry.add(
        id="events.precision_at_k",
        target=f"{_M}:PrecisionAtK",
        params=f"{_M}:KParams",
        short_name="P@k",
        **sample,
        summary="Share of anomalies among the k top-scored events (k = number of anomalies by default); ties at the "
        "cut counted in proportion",
    )
    registry.add(
        id="events.recall_at_fpr",
        target=f"{_M}:RecallAtFPR",
        params=f"{_M}:FPRParams",
        short_name="R@FPR",
        **sample,
        summary="Recall at the lowest threshold whose false-positive rate stays within fpr (default 5%)",
    )
    registry.add(
        id="events.category_recall",
        target=f"{_M}:CategoryRecall",
        params=f"{_M}:FPRParams",
        short_name="cat-R",
        **sample,
        summary="Detection rate per anomaly category (DoS/Probe/R2L/U2R on NSL-KDD) at the fpr threshold; "
        "headline = mean over categories",
    )
