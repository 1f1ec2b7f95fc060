"""Registry cards for event detectors (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar

_D = "omniad_events.detectors"
_P = f"{_D}.params:"


def register(registry: Registrar) -> None:
    events = {"modality": "events"}
    registry.add(
        id="events.avf",
        target=f"{_D}.avf:AVF",
        params=f"{_P}AVFParams",
        **events,
        summary="Attribute value frequency: minus the mean training frequency of the event's values (numbers binned)",
        reference="Koufakou et al., ICTAI 2007",
        demo=True,
    )
    registry.add(
        id="events.ape",
        target=f"{_D}.ape:APE",
        params=f"{_P}APEParams",
        gpu="optional",
        tags=("neural",),
        **events,
        summary="Entity embeddings with weighted pairwise type interactions (pseudo-likelihood fit; the paper's NCE "
        "with context-dependent noise as an option); score = negative event log-likelihood, numbers binned into "
        "entities plus their own tail likelihood",
        reference="Chen et al., IJCAI 2016 (APE)",
        demo=True,
        demo_params={"epochs": 5, "dim": 8},
    )
    registry.add(
        id="events.clan",
        target=f"{_D}.clan:CLAN",
        params=f"{_P}CLANParams",
        gpu="optional",
        tags=("neural",),
        **events,
        summary="Contrastive encoder trained on benign events only (other benign events positive, field-shuffled/"
        "masked/noised copies negative); score = kNN cosine distance to the training events in the last hidden layer",
        reference="CLAN: contrastive learning using only benign network traffic (Wilkie et al., 2023)",
        demo=True,
        demo_params={"epochs": 5, "hidden": [32], "rep_dim": 16},
    )
    registry.add(
        id="events.car",
        target=f"{_D}.car:CAR",
        params=f"{_P}CARParams",
        gpu="optional",
        tags=("neural", "sequence"),
        **events,
        summary="Collaborative alerts ranking within sequences: context-tree (Pitman-Yor) surprise of the alert order, "
        "burst counts in time, APE content likelihood, summed as calibrated surprises; per-sequence scores and "
        "the patterns behind the top alerts",
        reference="Lin et al., Collaborative Alerts Ranking for Anomaly Detection, arXiv:1612.07736 (2016), CIKM 2018",
        demo=True,
        demo_params={"epochs": 5, "dim": 8, "sequence_fields": ["service"]},
    )
    registry.add(
        id="events.embedded",
        target=f"{_D}.embedded:EventEmbedded",
        params=f"{_P}EmbeddedParams",
        tags=("adapter",),
        **events,
        summary="Any registered tabular detector (pyod.*, core.knn, ...) on one-hot + min-max (or frequency) "
        "encoded events",
        demo=True,
    )
