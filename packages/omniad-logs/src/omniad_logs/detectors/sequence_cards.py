"""Registry cards of the sequence detectors (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar

_P = "omniad_logs.detectors"
#: what to pip install for torch (the package's optional extra)
NEURAL_EXTRA = "omniad-logs[neural]"
#: torch is the optional [neural] extra: without it these stay listed and a run naming one fails at plan
#: time with "pip install 'omniad-logs[neural]'"
NEURAL = {"requires": ("torch",), "install": {"torch": NEURAL_EXTRA}}


def register(registry: Registrar) -> None:
    registry.add(
        id="logs.deeplog", target=f"{_P}.deeplog:DeepLog", params=f"{_P}.sequence_params:DeepLogParams",
        modality="logs", gpu="optional", **NEURAL,
        summary="DeepLog: LSTM next-event prediction over the last h events; a line is anomalous when its "
        "event is not among the top-g predictions (the detector's own decision)",
        reference="Du et al., DeepLog, CCS 2017",
        demo=True,
        demo_params={"epochs": 10, "hidden_size": 32, "num_layers": 1, "embedding_dim": 16, "window": 5},
    )
    registry.add(
        id="logs.loganomaly", target=f"{_P}.loganomaly:LogAnomaly", params=f"{_P}.sequence_params:LogAnomalyParams",
        modality="logs", gpu="optional", **NEURAL,
        summary="LogAnomaly: sequential (semantic event vectors) + quantitative (count vector) LSTMs predict "
        "the next event; top-g decision like DeepLog",
        reference="Meng et al., LogAnomaly, IJCAI 2019",
    )
    registry.add(
        id="logs.logrobust", target=f"{_P}.logrobust:LogRobust", params=f"{_P}.sequence_params:LogRobustParams",
        modality="logs", gpu="optional", **NEURAL,
        summary="LogRobust: attention Bi-LSTM over semantic event vectors, a supervised session classifier "
        "(needs meta['label'] on training sessions, e.g. logs.hdfs_sessions protocol='logrobust')",
        reference="Zhang et al., Robust log-based anomaly detection on unstable log data, FSE 2019",
    )
    registry.add(
        id="logs.transformer", target=f"{_P}.transformer:LogTransformer",
        params=f"{_P}.sequence_params:TransformerParams", modality="logs", gpu="optional", **NEURAL,
        summary="Small causal transformer encoder for next-event prediction, top-g decision like DeepLog",
        reference="Vaswani et al., NeurIPS 2017; next-event setting of Du et al., CCS 2017",
    )
