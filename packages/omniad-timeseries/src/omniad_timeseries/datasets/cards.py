"""Registry cards for time-series datasets (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar

_P = "omniad_timeseries.datasets"
# TSB-AD's protocol: VUS-PR first, then VUS-ROC and the point-wise areas; range/event/affiliation
# F1 (oracle threshold) after. Point-adjusted F1 is left out: it flatters (see docs/metrics.md).
_METRICS = (
    "timeseries.vus_pr", "timeseries.vus_roc", "core.local_aupr", "core.local_auroc",
    "timeseries.range_f1", "timeseries.event_f1", "timeseries.affiliation_f1",
)


def register(registry: Registrar) -> None:
    common = {"modality": "timeseries", "localization": "timestep", "metrics": _METRICS}
    registry.add(
        id="timeseries.synthetic", target=f"{_P}.synthetic:Synthetic", params=f"{_P}.params:SyntheticParams",
        split_seed_param="seed",
        summary="Seasonal series with injected point/contextual/collective/level/trend/seasonal anomalies, "
        "uni- or multivariate, severity 1-3",
        demo=True, demo_params={"n_series": 2, "length": 800, "train_length": 200, "period": 40, "n_anomalies": 3},
        **common,
    )
    registry.add(
        id="timeseries.nab", target=f"{_P}.nab:NAB", params=f"{_P}.params:NABParams",
        summary="Numenta Anomaly Benchmark (CSV + combined_windows.json), one subset per labelled series",
        reference="Lavin & Ahmad, ICMLA 2015; TSB-AD (Liu & Paparrizos, NeurIPS 2024) train-prefix rule",
        needs_data=True, **common,
    )
    registry.add(
        id="timeseries.tsbad", target=f"{_P}.tsbad:TSBAD", params=f"{_P}.params:TSBADParams",
        summary="TSB-AD-U / TSB-AD-M CSV files (channels + Label, train length from _tr_N in the name)",
        reference="Liu & Paparrizos, NeurIPS 2024", needs_data=True, **common,
    )
    registry.add(
        id="timeseries.ucr", target=f"{_P}.ucr:UCR", params=f"{_P}.params:UCRParams",
        summary="UCR time-series anomaly archive .txt files (train end and anomaly range in the name)",
        reference="Wu & Keogh, TKDE 2021", needs_data=True, **common,
    )
    registry.add(
        id="timeseries.smd", target=f"{_P}.smd:SMD", params=f"{_P}.params:SMDParams",
        summary="Server Machine Dataset layout (train/, test/, test_label/ text files), multivariate",
        reference="Su et al., KDD 2019 (OmniAnomaly)", needs_data=True, **common,
    )
    registry.add(
        id="timeseries.telemanom", target=f"{_P}.telemanom:Telemanom", params=f"{_P}.params:TelemanomParams",
        summary="NASA SMAP / MSL spacecraft telemetry in telemanom's layout (labeled_anomalies.csv, "
        "train/ and test/ .npy), one subset per channel, inclusive label ranges",
        reference="Hundman et al., KDD 2018 (telemanom)", needs_data=True, **common,
    )
    registry.add(
        id="timeseries.table", target=f"{_P}.table:Table", params=f"{_P}.params:TableParams",
        summary="Generic CSV/parquet series (a file or a folder of them): numeric channels, optional 0/1 label "
        "column and timestamps",
        needs_data=True, path_param="path", reads=(".csv", ".parquet", ".pq", "/"),
        source_params={"split": "all", "timestamp_column": "auto"}, **common,
    )
    registry.add(
        id="timeseries.bundled", target=f"{_P}.bundled:Bundled", params=f"{_P}.params:BundledParams",
        summary="Labelled series shipped inside the sktime (mitdb, yahoo) and aeon (UCR, Daphnet) wheels",
        **common,
    )
