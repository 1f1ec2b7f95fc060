"""Registry cards for text detectors (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar

_D = "omniad_text.detectors"
_P = f"{_D}.params:"
#: the demo runs on the MiniLM wheel when installed, else on the tiny random model (said in the output)
DEMO_EMBEDDING = {"model": "minilm", "allow_fallback": True, "batch_size": 32}


def register(registry: Registrar) -> None:
    text = {"modality": "text", "gpu": "optional", "tags": ("embedding",)}
    registry.add(
        id="text.knn", target=f"{_D}.neighbours:TextKNN", params=f"{_P}KNNParams", **text,
        summary="Cosine distance to the k-th nearest training text embedding",
        reference="Ramaswamy et al., SIGMOD 2000; Text-ADBench (Xu et al., 2025)",
        demo=True, demo_params={"embedding": DEMO_EMBEDDING},
    )
    registry.add(
        id="text.lof", target=f"{_D}.neighbours:TextLOF", params=f"{_P}LOFParams", **text,
        summary="Local outlier factor of the text embedding among the training texts (scikit-learn, novelty mode)",
        reference="Breunig et al., SIGMOD 2000",
    )
    registry.add(
        id="text.iforest", target=f"{_D}.sklearn_models:TextIForest", params=f"{_P}IForestParams", **text,
        summary="Isolation Forest on text embeddings (scikit-learn)", reference="Liu, Ting & Zhou, ICDM 2008",
    )
    registry.add(
        id="text.ocsvm", target=f"{_D}.sklearn_models:TextOCSVM", params=f"{_P}OCSVMParams", **text,
        summary="One-class SVM on text embeddings (scikit-learn, RBF with gamma=scale)",
        reference="Schölkopf et al., Neural Computation 2001",
    )
    registry.add(
        id="text.mahalanobis", target=f"{_D}.linear:TextMahalanobis", params=f"{_P}MahalanobisParams", **text,
        summary="Mahalanobis distance to the Ledoit-Wolf Gaussian of the training text embeddings",
        reference="Lee et al., NeurIPS 2018 (Mahalanobis on learned features); Ledoit & Wolf 2004",
    )
    registry.add(
        id="text.ecod", target=f"{_D}.ecod:TextECOD", params=f"{_P}ECODParams", **text,
        summary="ECOD tail probabilities of each text against the training ECDFs (one at a time, not batch-refit)",
        reference="Li et al., TKDE 2022",
    )
    registry.add(
        id="text.pca", target=f"{_D}.linear:TextPCA", params=f"{_P}PCAParams", **text,
        summary="Reconstruction error outside the principal subspace of the training text embeddings",
        reference="Shyu et al., 2003 (PCA-based outlier detection)",
        demo=True, demo_params={"embedding": DEMO_EMBEDDING},
    )
    registry.add(
        id="text.deep_svdd", target=f"{_D}.deep_svdd:TextDeepSVDD", params=f"{_P}DeepSVDDParams", **text,
        summary="Deep SVDD: a bias-free MLP on the embeddings trained to pull normal texts to a centre (torch)",
        reference="Ruff et al., ICML 2018",
    )
    registry.add(
        id="text.embedded", target=f"{_D}.embedded:TextEmbedded", params=f"{_P}EmbeddedDetectorParams",
        modality="text", gpu="optional", tags=("embedding", "adapter"),
        summary="Any registered tabular detector (pyod.*, core.knn, ...) on the cached text embeddings",
    )
    registry.add(
        id="text.cvdd", target=f"{_D}.cvdd:TextCVDD", params=f"{_P}CVDDParams", modality="text", gpu="optional",
        tags=("end-to-end", "neural"),
        summary="Context vector data description: multi-head self-attention over the encoder's frozen token "
        "embeddings, trained one-class on normal texts",
        reference="Ruff et al., ACL 2019",
    )
