"""Registry cards for event datasets (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar

_P = "omniad_events.datasets"
METRICS = ("core.auroc", "core.aupr", "events.recall_at_fpr", "events.precision_at_k")
CATEGORISED = (*METRICS, "events.category_recall")


def register(registry: Registrar) -> None:
    events = {"modality": "events", "localization": None}
    registry.add(
        id="events.synthetic",
        target=f"{_P}.synthetic:Synthetic",
        params=f"{_P}.params:SyntheticParams",
        **events,
        metrics=CATEGORISED,
        split_seed_param="seed",
        summary="Seeded users/hosts/services/ports events with department structure, one timeline per user (the "
        "sequence key); anomalies: rare combinations, unseen entities, wrong port for the service, bursts in time",
        demo=True,
        demo_params={"n_train": 300, "n_test_normal": 80, "n_test_anomalous": 40},
    )
    registry.add(
        id="events.nsl_kdd",
        target=f"{_P}.nsl_kdd:NSLKDD",
        params=f"{_P}.params:NSLKDDParams",
        **events,
        metrics=CATEGORISED,
        needs_data=True,
        split_seed_param="seed",
        summary="NSL-KDD one-class: fit on the 13,449 normal rows of KDDTrain+_20Percent, score KDDTest+ and "
        "KDDTest-21 (DoS/Probe/R2L/U2R per row); default root $OMNIAD_SHARED_DATA/data/nsl_kdd",
        reference="Tavallaee et al., IEEE CISDA 2009",
    )
    registry.add(
        id="events.table",
        target=f"{_P}.table:EventTableDataset",
        params=f"{_P}.params:TableParams",
        **events,
        metrics=METRICS,
        needs_data=True,
        split_seed_param="seed",
        summary="CSV/TSV/parquet of events: entity, numeric, label, time and key columns (typed by their cells when "
        "not named); unlabelled tables with split='all' (own data)",
        path_param="path",
        reads=(".csv", ".tsv", ".parquet", ".pq"),
        probe=f"{_P}.probe:events_probe",
        source_params={"split": "all"},
    )
