"""The PyOD detectors omniad exposes, with each constructor's arguments written out.

This table is what lets discovery, ``omniad show`` and config validation work without
importing PyOD (which pulls in scikit-learn, numba and matplotlib: seconds per process).
The price is that it can drift from PyOD: ``tests/test_pyod_catalog.py`` compares every
entry with ``inspect.signature`` of the installed PyOD class, so an upgrade that adds,
drops or re-defaults an argument fails a test instead of silently running something else.

Scoring kinds:

- ``inductive``: PyOD's ``fit`` learns a model from the training split and
  ``decision_function`` scores each test sample against it, independently of the rest of
  the batch (checked for every entry by a test).
- ``ecdf``: ECOD and COPOD. PyOD re-fits their empirical CDFs on training + test batch at
  scoring time, so test samples change each other's scores; omniad scores each sample
  against the training distribution only (see ``omniad_pyod.ecdf``).
- ``transductive``: the method has no model of "normal" to apply to new data; PyOD scores
  a batch against itself. These detectors are registered with ``fit_on="test"``: ``score``
  runs PyOD on the batch it is given and ``fit`` only records the feature count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import Field

# -- argument types shared by many detectors -------------------------------------------------
Contamination = Annotated[float, Field(gt=0, le=0.5)]
PositiveInt = Annotated[int, Field(ge=1)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
PositiveFloat = Annotated[float, Field(gt=0)]
Fraction = Annotated[float, Field(gt=0, le=1)]
Seed = Annotated[int, Field(ge=0, lt=2**32)] | None
NJobs = int | None
TreeAlgorithm = Literal["auto", "ball_tree", "kd_tree", "brute"]
MetricName = str
MetricParams = dict[str, Any] | None
SampleCount = Literal["auto"] | PositiveInt | Fraction

CONTAMINATION_DOC = (
    "PyOD's assumed share of outliers. It only sets PyOD's own threshold_/labels_, which "
    "omniad does not use; scores do not depend on it. Use Detector.calibrate() for an "
    "omniad threshold."
)
SEED_DOC = (
    "PyOD's random_state. None: the detector's seed, or a fresh one that is saved with the "
    "model so a reload reproduces it."
)


@dataclass(frozen=True)
class Arg:
    """One constructor argument: its name, pydantic type, PyOD default and a short note."""

    name: str
    type: Any
    default: Any
    doc: str = ""


def contamination() -> Arg:
    return Arg("contamination", Contamination, 0.1, CONTAMINATION_DOC)


def seed() -> Arg:
    return Arg("random_state", Seed, None, SEED_DOC)


def n_jobs(default: int | None = 1) -> Arg:
    return Arg("n_jobs", NJobs, default, "parallel jobs (-1: all cores)")


def neighbour_search(leaf_size: int = 30, *, p: bool = True) -> tuple[Arg, ...]:
    """The scikit-learn nearest-neighbour arguments PyOD passes through."""
    args = [
        Arg("algorithm", TreeAlgorithm, "auto", "nearest-neighbour search structure"),
        Arg("leaf_size", PositiveInt, leaf_size),
        Arg("metric", MetricName, "minkowski", "any scikit-learn distance name"),
    ]
    if p:
        args.append(Arg("p", PositiveFloat, 2, "Minkowski power (2 = Euclidean)"))
    args.append(Arg("metric_params", MetricParams, None))
    return tuple(args)


ECDF_N_JOBS = Arg("n_jobs", NJobs, 1, "accepted for PyOD compatibility; omniad's ECDF scoring is vectorised and ignores it")


@dataclass(frozen=True)
class ModelSpec:
    """One exposed detector: where PyOD keeps it, how it scores, and its arguments in order."""

    name: str
    pyod_class: str
    summary: str
    reference: str
    args: tuple[Arg, ...]
    scoring: Literal["inductive", "ecdf", "transductive"] = "inductive"
    #: PyOD arguments left out, and why (estimator objects cannot come from a config file).
    excluded: dict[str, str] = field(default_factory=dict)
    #: number of features the method accepts, where it is fixed.
    n_features: int | None = None
    demo: bool = False
    tags: tuple[str, ...] = ()

    @property
    def class_name(self) -> str:
        return self.pyod_class.rpartition(":")[2]

    @property
    def id(self) -> str:
        return f"pyod.{self.name}"

    @property
    def target(self) -> str:
        module = "ecdf" if self.scoring == "ecdf" else "detectors"
        return f"omniad_pyod.{module}:{self.class_name}"

    @property
    def params_target(self) -> str:
        return f"omniad_pyod.params:{self.class_name}Params"

    @property
    def has_seed(self) -> bool:
        return any(a.name == "random_state" for a in self.args)


def _spec(*args: Any, **kwargs: Any) -> tuple[str, ModelSpec]:
    spec = ModelSpec(*args, **kwargs)
    return spec.name, spec


CATALOG: dict[str, ModelSpec] = dict(
    [
        _spec(
            "abod", "pyod.models.abod:ABOD",
            "Angle-based outlier degree: variance of angles to the k nearest training points",
            "Kriegel, Schubert & Zimek, KDD 2008",
            (
                contamination(),
                Arg("n_neighbors", PositiveInt, 5),
                Arg("method", Literal["fast", "default"], "fast", "fast: k neighbours only; default: all points (O(n^3))"),
                *neighbour_search(),
                n_jobs(),
            ),
            tags=("proximity",),
        ),
        _spec(
            "cblof", "pyod.models.cblof:CBLOF",
            "Cluster-based local outlier factor: distance to the nearest large k-means cluster",
            "He, Xu & Deng, Pattern Recognition Letters 2003",
            (
                Arg("n_clusters", Annotated[int, Field(ge=2)], 8),
                contamination(),
                Arg("alpha", Annotated[float, Field(gt=0.5, lt=1)], 0.9, "share of samples in large clusters"),
                Arg("beta", Annotated[float, Field(ge=1)], 5, "size ratio separating large from small clusters"),
                Arg("use_weights", bool, False, "weight scores by cluster size"),
                Arg("check_estimator", bool, False),
                seed(),
                n_jobs(),
            ),
            excluded={"clustering_estimator": "takes an estimator object; the default k-means is used"},
            tags=("proximity", "clustering"),
        ),
        _spec(
            "copod", "pyod.models.copod:COPOD",
            "Copula-based outlier detection: empirical tail probabilities per feature, scored against training",
            "Li, Zhao, Botta, Ionescu & Hu, ICDM 2020",
            (contamination(), ECDF_N_JOBS),
            scoring="ecdf",
            tags=("probabilistic", "parameter-free"),
        ),
        _spec(
            "ecod", "pyod.models.ecod:ECOD",
            "Empirical-CDF outlier detection: skew-aware tail probabilities per feature, scored against training",
            "Li, Zhao, Hu, Botta, Ionescu & Chen, TKDE 2022",
            (contamination(), ECDF_N_JOBS),
            scoring="ecdf",
            demo=True,
            tags=("probabilistic", "parameter-free"),
        ),
        _spec(
            "gmm", "pyod.models.gmm:GMM",
            "Gaussian mixture: negative log-likelihood under a mixture fitted to the training vectors",
            "Aggarwal, Outlier Analysis, Springer 2015",
            (
                Arg("n_components", PositiveInt, 1),
                Arg("covariance_type", Literal["full", "tied", "diag", "spherical"], "full"),
                Arg("tol", PositiveFloat, 1e-3),
                Arg("reg_covar", NonNegativeFloat, 1e-6),
                Arg("max_iter", PositiveInt, 100),
                Arg("n_init", PositiveInt, 1),
                Arg("init_params", Literal["kmeans", "k-means++", "random", "random_from_data"], "kmeans"),
                Arg("weights_init", list[float] | None, None),
                Arg("means_init", list[list[float]] | None, None),
                Arg("precisions_init", list[Any] | None, None),
                seed(),
                Arg("warm_start", bool, False),
                contamination(),
            ),
            tags=("probabilistic",),
        ),
        _spec(
            "hbos", "pyod.models.hbos:HBOS",
            "Histogram-based outlier score: summed negative log densities of per-feature histograms",
            "Goldstein & Dengel, KI 2012",
            (
                Arg("n_bins", Literal["auto"] | Annotated[int, Field(ge=2)], 10),
                Arg("alpha", Annotated[float, Field(gt=0, lt=1)], 0.1, "regulariser against empty bins"),
                Arg("tol", Annotated[float, Field(gt=0, lt=1)], 0.5, "tolerance for values just outside the bins"),
                contamination(),
            ),
            tags=("probabilistic",),
        ),
        _spec(
            "hdbscan", "pyod.models.hdbscan:HDBSCAN",
            "HDBSCAN GLOSH outlier scores, propagated to new samples from their nearest training points",
            "Campello, Moulavi & Sander, PAKDD 2013",
            (
                Arg("min_cluster_size", Annotated[int, Field(ge=2)], 5),
                Arg("min_samples", PositiveInt | None, None),
                Arg("metric", MetricName, "euclidean"),
                Arg("alpha", PositiveFloat, 1.0),
                Arg("algorithm", TreeAlgorithm, "auto"),
                Arg("leaf_size", PositiveInt, 40),
                n_jobs(),
                contamination(),
            ),
            tags=("clustering",),
        ),
        _spec(
            "iforest", "pyod.models.iforest:IForest",
            "Isolation forest: short average path length in random trees means anomalous",
            "Liu, Ting & Zhou, ICDM 2008",
            (
                Arg("n_estimators", PositiveInt, 100),
                Arg("max_samples", SampleCount, "auto", "samples per tree: count, fraction, or auto = min(256, n)"),
                contamination(),
                Arg("max_features", PositiveInt | Fraction, 1.0),
                Arg("bootstrap", bool, False),
                n_jobs(),
                Arg("behaviour", Literal["old", "new"], "old", "kept for compatibility; no effect on scores"),
                seed(),
                Arg("verbose", Annotated[int, Field(ge=0)], 0),
            ),
            demo=True,
            tags=("ensemble",),
        ),
        _spec(
            "inne", "pyod.models.inne:INNE",
            "Isolation using nearest-neighbour ensembles: hyperspheres around random training subsamples",
            "Bandaragoda et al., Computational Intelligence 2018",
            (
                Arg("n_estimators", PositiveInt, 200),
                Arg("max_samples", SampleCount, "auto", "subsample size: count, fraction, or auto = min(8, n)"),
                contamination(),
                seed(),
            ),
            tags=("ensemble",),
        ),
        _spec(
            "kde", "pyod.models.kde:KDE",
            "Kernel density estimate: negative log density under a Gaussian KDE of the training vectors",
            "Latecki, Lazarevic & Pokrajac, MLDM 2007",
            (
                contamination(),
                Arg("bandwidth", PositiveFloat, 1.0),
                Arg("algorithm", Literal["auto", "ball_tree", "kd_tree"], "auto"),
                Arg("leaf_size", PositiveInt, 30),
                Arg("metric", MetricName, "minkowski"),
                Arg("metric_params", MetricParams, None),
            ),
            tags=("probabilistic",),
        ),
        _spec(
            "knn", "pyod.models.knn:KNN",
            "k-nearest-neighbour distance to the training vectors (largest, mean or median of k)",
            "Ramaswamy, Rastogi & Shim, SIGMOD 2000",
            (
                contamination(),
                Arg("n_neighbors", PositiveInt, 5),
                Arg("method", Literal["largest", "mean", "median"], "largest"),
                Arg("radius", PositiveFloat, 1.0, "unused by the score; kept for PyOD compatibility"),
                *neighbour_search(),
                n_jobs(),
            ),
            demo=True,
            tags=("proximity",),
        ),
        _spec(
            "kpca", "pyod.models.kpca:KPCA",
            "Kernel PCA reconstruction error in feature space",
            "Hoffmann, Pattern Recognition 2007",
            (
                contamination(),
                Arg("n_components", PositiveInt | None, None),
                Arg("n_selected_components", PositiveInt | None, None),
                Arg("kernel", Literal["linear", "poly", "rbf", "sigmoid", "cosine"], "rbf"),
                Arg("gamma", PositiveFloat | None, None),
                Arg("degree", PositiveInt, 3),
                Arg("coef0", float, 1),
                Arg("kernel_params", dict[str, Any] | None, None),
                Arg("alpha", PositiveFloat, 1.0),
                Arg("eigen_solver", Literal["auto", "dense", "arpack", "randomized"], "auto"),
                Arg("tol", NonNegativeFloat, 0),
                Arg("max_iter", PositiveInt | None, None),
                Arg("remove_zero_eig", bool, False),
                Arg("copy_X", bool, True),
                n_jobs(None),
                Arg("sampling", bool, False, "fit on a random subset of subset_size training samples"),
                Arg("subset_size", PositiveInt | Fraction, 20),
                seed(),
            ),
            tags=("linear-model",),
        ),
        _spec(
            "loda", "pyod.models.loda:LODA",
            "Lightweight on-line detector of anomalies: histograms on sparse random projections",
            "Pevný, Machine Learning 2016",
            (
                contamination(),
                Arg("n_bins", Literal["auto"] | Annotated[int, Field(ge=2)], 10),
                Arg("n_random_cuts", PositiveInt, 100),
                seed(),
            ),
            tags=("ensemble", "probabilistic"),
        ),
        _spec(
            "lof", "pyod.models.lof:LOF",
            "Local outlier factor: local density relative to that of the nearest training points",
            "Breunig, Kriegel, Ng & Sander, SIGMOD 2000",
            (
                Arg("n_neighbors", PositiveInt, 20),
                *neighbour_search(),
                contamination(),
                n_jobs(),
                Arg(
                    "novelty", Literal[True], True,
                    "must stay True: with novelty=False scikit-learn cannot score samples outside the training set",
                ),
            ),
            demo=True,
            tags=("proximity",),
        ),
        _spec(
            "mad", "pyod.models.mad:MAD",
            "Median absolute deviation of a single feature (modified z-score)",
            "Iglewicz & Hoaglin, How to Detect and Handle Outliers, ASQC 1993",
            (Arg("threshold", PositiveFloat, 3.5, "only used for PyOD's labels_"), contamination()),
            n_features=1,
            tags=("statistical",),
        ),
        _spec(
            "mcd", "pyod.models.mcd:MCD",
            "Minimum covariance determinant: Mahalanobis distance under a robust covariance",
            "Rousseeuw & Driessen, Technometrics 1999",
            (
                contamination(),
                Arg("store_precision", bool, True),
                Arg("assume_centered", bool, False),
                Arg("support_fraction", Fraction | None, None),
                seed(),
            ),
            tags=("linear-model", "statistical"),
        ),
        _spec(
            "ocsvm", "pyod.models.ocsvm:OCSVM",
            "One-class SVM: signed distance to the learned support of the training vectors",
            "Schölkopf et al., Neural Computation 2001",
            (
                Arg("kernel", Literal["linear", "poly", "rbf", "sigmoid"], "rbf"),
                Arg("degree", PositiveInt, 3),
                Arg("gamma", Literal["auto", "scale"] | PositiveFloat, "auto"),
                Arg("coef0", float, 0.0),
                Arg("tol", PositiveFloat, 1e-3),
                Arg("nu", Fraction, 0.5, "upper bound on the share of training errors"),
                Arg("shrinking", bool, True),
                Arg("cache_size", PositiveFloat, 200, "kernel cache in MB"),
                Arg("verbose", bool, False),
                Arg("max_iter", int, -1, "-1: no limit"),
                contamination(),
            ),
            tags=("linear-model",),
        ),
        _spec(
            "pca", "pyod.models.pca:PCA",
            "PCA: weighted distance to the principal subspace of the (standardised) training vectors",
            "Shyu, Chen, Sarinnapakorn & Chang, ICDM workshop 2003",
            (
                Arg("n_components", PositiveInt | Annotated[float, Field(gt=0, lt=1)] | Literal["mle"] | None, None),
                Arg("n_selected_components", PositiveInt | None, None),
                contamination(),
                Arg("whiten", bool, False),
                Arg("svd_solver", Literal["auto", "full", "covariance_eigh", "arpack", "randomized"], "auto"),
                Arg("tol", NonNegativeFloat, 0.0),
                Arg("iterated_power", Literal["auto"] | PositiveInt, "auto"),
                seed(),
                Arg("weighted", bool, True, "weight components by inverse explained variance"),
                Arg("standardization", bool, True, "z-score features before PCA"),
            ),
            excluded={
                "copy": "PyOD's default (True) is kept: with False scikit-learn may overwrite the "
                "training matrix omniad saves for reloading",
            },
            tags=("linear-model",),
        ),
        _spec(
            "qmcd", "pyod.models.qmcd:QMCD",
            "Quasi-Monte Carlo discrepancy: how much a sample disturbs the uniformity of the training data",
            "Fang & Ma, Journal of Complexity 2001",
            (contamination(),),
            tags=("statistical",),
        ),
        _spec(
            "sampling", "pyod.models.sampling:Sampling",
            "Distance to the nearest of a random subsample of the training vectors",
            "Sugiyama & Borgwardt, NeurIPS 2013",
            (
                contamination(),
                Arg("subset_size", PositiveInt | Fraction, 20),
                Arg("metric", MetricName, "minkowski"),
                Arg("metric_params", MetricParams, None),
                seed(),
            ),
            tags=("proximity",),
        ),
        # -- transductive: a batch is scored against itself ---------------------------------
        _spec(
            "cd", "pyod.models.cd:CD",
            "Cook's distance of each sample in per-feature regressions (transductive: scores a batch against itself)",
            "Cook, Technometrics 1977",
            (contamination(),),
            scoring="transductive",
            excluded={"model": "takes an estimator object; the default linear regression is used"},
            tags=("linear-model", "transductive"),
        ),
        _spec(
            "cof", "pyod.models.cof:COF",
            "Connectivity-based outlier factor (transductive: scores a batch against itself)",
            "Tang, Chen, Fu & Cheung, PAKDD 2002",
            (
                contamination(),
                Arg("n_neighbors", Annotated[int, Field(ge=2)], 20),
                Arg("method", Literal["fast", "memory"], "fast"),
            ),
            scoring="transductive",
            tags=("proximity", "transductive"),
        ),
        _spec(
            "lmdd", "pyod.models.lmdd:LMDD",
            "Linear model deviation-based detection (transductive: scores a batch against itself)",
            "Arning, Agrawal & Raghavan, KDD 1996",
            (
                contamination(),
                Arg("n_iter", PositiveInt, 50),
                Arg("dis_measure", Literal["aad", "var", "iqr"], "aad"),
                seed(),
            ),
            scoring="transductive",
            tags=("linear-model", "transductive"),
        ),
        _spec(
            "loci", "pyod.models.loci:LOCI",
            "Local correlation integral, O(n^3) (transductive: scores a batch against itself)",
            "Papadimitriou, Kitagawa, Gibbons & Faloutsos, ICDE 2003",
            (contamination(), Arg("alpha", Fraction, 0.5), Arg("k", PositiveFloat, 3)),
            scoring="transductive",
            tags=("proximity", "transductive"),
        ),
        _spec(
            "rod", "pyod.models.rod:ROD",
            "Rotation-based outlier detection over all 3-D subspaces, O(d^3) (transductive: scores a batch against itself)",
            "Almardeny, Boujnah & Cleary, TKDE 2020",
            (contamination(), Arg("parallel_execution", bool, False)),
            scoring="transductive",
            tags=("statistical", "transductive"),
        ),
        _spec(
            "sod", "pyod.models.sod:SOD",
            "Subspace outlier degree in shared-neighbour subspaces (transductive: scores a batch against itself)",
            "Kriegel, Kröger, Schubert & Zimek, PAKDD 2009",
            (
                contamination(),
                Arg("n_neighbors", Annotated[int, Field(ge=2)], 20),
                Arg("ref_set", PositiveInt, 10, "shared-neighbour reference set size; must be < n_neighbors"),
                Arg("alpha", Fraction, 0.8),
                *neighbour_search(),
                n_jobs(),
            ),
            scoring="transductive",
            tags=("proximity", "transductive"),
        ),
        _spec(
            "sos", "pyod.models.sos:SOS",
            "Stochastic outlier selection by affinity (transductive: scores a batch against itself)",
            "Janssens, Huszár, Postma & van den Herik, Tilburg TR 2012",
            (
                contamination(),
                Arg("perplexity", PositiveFloat, 4.5),
                Arg("metric", MetricName, "euclidean"),
                Arg("eps", PositiveFloat, 1e-5),
            ),
            scoring="transductive",
            tags=("probabilistic", "transductive"),
        ),
    ]
)

#: PyOD model modules deliberately not exposed, and why (checked against PyOD by a test).
NOT_EXPOSED: dict[str, str] = {
    "ae1svm": "deep (torch)",
    "alad": "deep (torch)",
    "anogan": "deep (torch)",
    "audio_ae": "deep (torch), audio input",
    "auto_encoder": "deep (torch)",
    "base": "base class",
    "base_dl": "base class of the deep models",
    "combination": "score combination helpers, not a detector",
    "deep_svdd": "deep (torch)",
    "devnet": "deep (torch), semi-supervised",
    "dif": "deep (torch)",
    "embedding": "encoder + detector pipeline; omniad composes encoders and detectors itself",
    "feature_bagging": "ensemble of detector objects; needs the combo package",
    "gaal_base": "base class of the GAN models",
    "lscp": "ensemble over a list of detector objects",
    "lunar": "deep (torch)",
    "mo_gaal": "deep (torch)",
    "rgraph": "PyOD 3.6's RGraph ranks anomalies below normal samples on every data set tried "
    "(AUROC 0.02-0.18, including the union-of-subspaces data it is designed for); not exposed until fixed upstream",
    "sklearn_base": "helpers",
    "so_gaal": "deep (torch)",
    "so_gaal_new": "deep (torch)",
    "suod": "ensemble accelerator over detector objects; needs the suod package",
    "thresholds": "thresholding helpers, not a detector",
    "vae": "deep (torch)",
    "xgbod": "supervised (needs labels) and xgboost",
}
#: prefixes of PyOD module families that are not feature-vector detectors.
NOT_EXPOSED_PREFIXES: dict[str, str] = {
    "pyg_": "graph detectors (torch_geometric); not feature vectors",
    "ts_": "time-series detectors; see omniad-timeseries",
}
