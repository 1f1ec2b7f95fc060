"""Registry cards for classic time-series detectors (no heavy imports here)."""

from __future__ import annotations

from omniad.registry import Registrar
from omniad_timeseries.detectors.params import NUMBA_EXTRA

_D = "omniad_timeseries.detectors"
_P = f"{_D}.params"
TSBAD = "TSB-AD 1.5 (Liu & Paparrizos, NeurIPS 2024), optimal univariate hyper-parameters"


def register(registry: Registrar) -> None:
    ts = {"modality": "timeseries", "gpu": "no"}
    unsup = {**ts, "fit_on": "test"}
    registry.add(
        id="timeseries.poly", target=f"{_D}.poly:POLY", params=f"{_P}:POLYParams", **unsup,
        summary="Local polynomial predicts each block from its neighbourhood; Fourier distance of the miss",
        reference=TSBAD, demo=True,
    )
    registry.add(
        id="timeseries.sub_pca", target=f"{_D}.pca:SubPCA", params=f"{_P}:SubPCAParams", **unsup,
        summary="PCA over z-scored period-length windows; weighted distance to the principal axes",
        reference=f"Shyu et al. 2003 via PyOD; {TSBAD}", demo=True,
    )
    registry.add(
        id="timeseries.iforest", target=f"{_D}.forest:IForest", params=f"{_P}:IForestParams", **unsup,
        summary="Isolation Forest over windows of 100 timesteps (TSB-AD's IForest)",
        reference=f"Liu et al., ICDM 2008; {TSBAD}", demo=True, demo_params={"n_estimators": 50},
    )
    registry.add(
        id="timeseries.sub_iforest", target=f"{_D}.forest:SubIForest", params=f"{_P}:SubIForestParams", **unsup,
        summary="Isolation Forest over period-length windows",
        reference=f"Liu et al., ICDM 2008; {TSBAD}",
    )
    registry.add(
        id="timeseries.lof", target=f"{_D}.neighbors:LOF", params=f"{_P}:LOFParams", **unsup,
        summary="Local outlier factor of single values (window 1), TSB-AD's LOF",
        reference=f"Breunig et al., SIGMOD 2000; {TSBAD}",
    )
    registry.add(
        id="timeseries.sub_lof", target=f"{_D}.neighbors:SubLOF", params=f"{_P}:SubLOFParams", **unsup,
        summary="Local outlier factor of period-length windows",
        reference=f"Breunig et al., SIGMOD 2000; {TSBAD}",
    )
    registry.add(
        id="timeseries.sub_knn", target=f"{_D}.neighbors:SubKNN", params=f"{_P}:SubKNNParams", **unsup,
        summary="Distance to the k-th nearest z-normalised window",
        reference=f"Ramaswamy et al., SIGMOD 2000; {TSBAD}",
    )
    registry.add(
        id="timeseries.sub_hbos", target=f"{_D}.hbos:SubHBOS", params=f"{_P}:SubHBOSParams", **unsup,
        summary="Histogram-based outlier score of z-normalised windows",
        reference=f"Goldstein & Dengel, KI 2012; {TSBAD}", demo=True,
    )
    registry.add(
        id="timeseries.sub_mcd", target=f"{_D}.mcd:SubMCD", params=f"{_P}:SubMCDParams", **ts,
        summary="Robust Mahalanobis distance of windows to the training prefix (semi-supervised)",
        reference=f"Rousseeuw & Van Driessen 1999; {TSBAD}",
    )
    registry.add(
        id="timeseries.kmeansad", target=f"{_D}.kmeans:KMeansAD", params=f"{_P}:KMeansADParams", **unsup,
        summary="Distance of z-normalised windows to their k-means centroid, averaged per timestep",
        reference=f"Yairi et al. 2001; {TSBAD} (KMeansAD_U)",
    )
    registry.add(
        id="timeseries.kshapead", target=f"{_D}.kshape:KShapeAD", params=f"{_P}:KShapeADParams", **unsup,
        summary="Weighted distance to k-Shape normal patterns (SAND offline; tslearn k-Shape)",
        reference=f"Boniol et al., VLDB 2021 (SAND); {TSBAD}", requires=("tslearn",),
        install={"tslearn": NUMBA_EXTRA},
    )
    registry.add(
        id="timeseries.matrix_profile", target=f"{_D}.matrix_profile:MatrixProfile",
        params=f"{_P}:MatrixProfileParams", **unsup,
        summary="Matrix-profile discords: z-normalised distance to the nearest other subsequence",
        reference=f"Yeh et al., ICDM 2016; {TSBAD}",
    )
    registry.add(
        id="timeseries.sr", target=f"{_D}.spectral:SR", params=f"{_P}:SRParams", **unsup,
        summary="Spectral residual saliency of the series",
        reference=f"Ren et al., KDD 2019; {TSBAD}", demo=True,
    )
    registry.add(
        id="timeseries.seasonal", target=f"{_D}.seasonal:SeasonalBaseline", params=f"{_P}:SeasonalParams",
        **unsup, summary="Robust seasonal baseline: |x - median trend - median seasonal profile| / MAD",
        reference="robust median decomposition (cf. Cleveland et al. 1990, STL)", demo=True,
    )
    registry.add(
        id="timeseries.hampel", target=f"{_D}.sktime_detectors:Hampel", params=f"{_P}:HampelParams", **unsup,
        summary="sktime's Hampel filter score: deviation from the rolling median in MAD units",
        reference="Hampel 1974; sktime.detection.hampel", requires=("sktime",),
    )
    registry.add(
        id="timeseries.stray", target=f"{_D}.sktime_detectors:STRAY", params=f"{_P}:STRAYParams", **unsup,
        summary="sktime's STRAY (k-NN distance at the largest gap) over standardised windows",
        reference="Talagala et al., JCGS 2021; sktime.detection.stray", requires=("sktime",),
    )
    registry.add(
        id="timeseries.random", target=f"{_D}.random_scores:RandomScores", params=f"{_P}:RandomParams", **unsup,
        summary="Seeded uniform random scores per timestep (the floor)", demo=True,
    )
    registry.add(
        id="timeseries.ensemble", target=f"{_D}.ensemble:Ensemble", params=f"{_P}:EnsembleParams", **unsup,
        summary="Rank-averaged scores of several detectors (default: POLY, Sub-PCA, KMeansAD)",
        reference="score-level ensembles (Aggarwal & Sathe, 2017)",
    )
