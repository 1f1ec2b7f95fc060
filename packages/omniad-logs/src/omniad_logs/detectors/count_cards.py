"""Registry cards of the count-vector and graph log detectors (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar
from omniad_logs.detectors.sequence_cards import NEURAL

_D = "omniad_logs.detectors"
_P = f"{_D}.count_params"
LOGLIZER = "loglizer (He et al., ISSRE 2016)"


def register(registry: Registrar) -> None:
    logs = {"modality": "logs", "gpu": "no"}
    registry.add(
        id="logs.pca", target=f"{_D}.pca:LogPCA", params=f"{_P}:PCAParams", **logs,
        summary="PCA of TF-IDF event-count vectors; SPE residual, decided by the Q-statistic",
        reference=f"Xu et al., SOSP 2009; Jackson & Mudholkar 1979; {LOGLIZER}",
        tags=("count-vector", "decision"), demo=True,
    )
    registry.add(
        id="logs.invariant_mining", target=f"{_D}.invariant_mining:InvariantMining",
        params=f"{_P}:InvariantMiningParams", **logs,
        summary="Mined linear invariants of event counts; score = invariants a session violates",
        reference=f"Lou et al., USENIX ATC 2010; {LOGLIZER}", tags=("count-vector", "decision"),
    )
    registry.add(
        id="logs.log_clustering", target=f"{_D}.log_clustering:LogClustering",
        params=f"{_P}:LogClusteringParams", **logs,
        summary="Cosine distance of the IDF-weighted session vector to the nearest normal cluster",
        reference=f"Lin et al., ICSE 2016; {LOGLIZER}", tags=("count-vector", "decision"),
        demo=True, demo_params={"num_bootstrap_samples": 200},
    )
    registry.add(
        id="logs.counts", target=f"{_D}.counts:SessionCounts", params=f"{_P}:CountsParams", **logs,
        summary="Any registered tabular detector (pyod.*, core.knn, ...) on session event-count vectors",
        tags=("count-vector", "adapter"),
    )
    registry.add(
        id="logs.iforest", target=f"{_D}.tabular_models:LogIForest", params=f"{_P}:IForestParams", **logs,
        summary="Isolation Forest on event-count vectors (omniad-pyod when installed, else scikit-learn)",
        reference="Liu, Ting & Zhou, ICDM 2008", tags=("count-vector",),
    )
    registry.add(
        id="logs.ocsvm", target=f"{_D}.tabular_models:LogOCSVM", params=f"{_P}:OCSVMParams", **logs,
        summary="One-class SVM on TF-IDF session vectors (omniad-pyod when installed, else scikit-learn)",
        reference="Schölkopf et al., Neural Computation 2001", tags=("count-vector",),
    )
    registry.add(
        id="logs.glad", target=f"{_D}.glad:GLAD", params=f"{_P}:GLADParams", modality="logs", gpu="optional",
        **NEURAL,
        summary="Graphs of events and parameter entities per session; small GNN trained one-class (Deep SVDD)",
        reference="GLAD-style (Li et al., 2023: content-aware dynamic graphs for log anomaly detection); "
        "Deep SVDD (Ruff et al., ICML 2018)",
        tags=("graph", "neural"),
    )
    registry.add(
        id="logs.random", target=f"{_D}.random_scores:RandomScores", params=f"{_P}:RandomParams", **logs,
        summary="Seeded uniform random scores per session and per line (the floor)", demo=True,
    )
