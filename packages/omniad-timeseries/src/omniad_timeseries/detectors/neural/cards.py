"""Registry cards for neural time-series detectors (no torch import here)."""

from __future__ import annotations

from omniad.registry import Registrar

_PKG = "omniad_timeseries.detectors.neural"
_P = f"{_PKG}.params"
#: what to pip install for torch (the package's optional extra)
NEURAL_EXTRA = "omniad-timeseries[neural]"
_TSBAD = "TSB-AD 1.5 (Liu & Paparrizos, NeurIPS 2024 Datasets and Benchmarks)"


def register(registry: Registrar) -> None:
    # torch is the optional [neural] extra: without it these stay listed and a run naming one fails at
    # plan time with "pip install 'omniad-timeseries[neural]'"
    common = {"modality": "timeseries", "gpu": "optional", "requires": ("torch",), "tags": ("neural",),
              "install": {"torch": NEURAL_EXTRA}}
    registry.add(
        id="timeseries.cnn", target=f"{_PKG}.forecasters:CNN", params=f"{_P}:CNNParams",
        summary="1-D CNN forecasting the next step from a window; score = squared forecast error",
        reference=f"Munir et al., DeepAnT, IEEE Access 2019; port of {_TSBAD} CNN",
        **common,
    )
    registry.add(
        id="timeseries.lstm_ad", target=f"{_PKG}.forecasters:LSTMAD", params=f"{_P}:LSTMADParams",
        summary="LSTM encoder-decoder forecasting the next step; score = squared forecast error",
        reference=f"Malhotra et al., ESANN 2015; port of {_TSBAD} LSTMAD",
        **common,
    )
    registry.add(
        id="timeseries.usad", target=f"{_PKG}.usad:USAD", params=f"{_P}:USADParams",
        summary="USAD: autoencoder with two adversarially trained decoders over sliding windows",
        reference=f"Audibert et al., KDD 2020; port of {_TSBAD} USAD",
        **common,
    )
    registry.add(
        id="timeseries.autoencoder", target=f"{_PKG}.autoencoder:AutoEncoder",
        params=f"{_P}:AutoEncoderParams",
        summary="Dense autoencoder over min-max scaled windows; score = reconstruction distance",
        reference=f"Aggarwal, Outlier Analysis 2015 (ch. 3); port of {_TSBAD} AutoEncoder",
        demo=True, demo_params={"window": 40, "epochs": 20},
        **common,
    )
    registry.add(
        id="timeseries.transformer", target=f"{_PKG}.transformer:TransformerAE",
        params=f"{_P}:TransformerParams",
        summary="Transformer window autoencoder with a latent bottleneck; per-timestep reconstruction error",
        reference="Vaswani et al., NeurIPS 2017 (encoder); bottleneck reconstruction as in omniad docs/neural.md",
        **common,
    )
    registry.add(
        id="timeseries.oraclead", target=f"{_PKG}.oraclead:OracleAD", params=f"{_P}:OracleADParams",
        summary="Per-variable causal embeddings, prediction + reconstruction, stable latent structure; "
        "dual score with per-variable root causes",
        reference="Cho et al., Structured Temporal Causality for Interpretable Multivariate Time Series "
        "Anomaly Detection (OracleAD), NeurIPS 2025, arXiv:2510.16511",
        demo=True, demo_params={"window": 20, "epochs": 20},
        **common,
    )
    registry.add(
        id="timeseries.timercd", target=f"{_PKG}.timercd:TimeRCD", params=f"{_P}:TimeRCDParams",
        summary="Transformer that labels each timestep against its surrounding context, trained on "
        "injected anomalies (optionally pretrained on synthetic series)",
        reference="TimeRCD: relative context discrepancy, arXiv:2509.21190 (TimeRCD-style reimplementation)",
        **common,
    )
