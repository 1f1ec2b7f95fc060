"""Parameter models of the classic time-series detectors (pydantic only: cards point here).

Defaults are TSB-AD 1.5's published "optimal" univariate settings
(``HP_list.Optimal_Uni_algo_HP_dict`` plus whatever ``model_wrapper.run_*`` leaves at its
default), so a default run is the run TSB-AD's leaderboard reports.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from omniad.params import Params

ChannelCombine = Literal["mean", "max"]
ProfileBackend = Literal["auto", "numpy", "stumpy"]
PointScore = Literal["centre", "max_cover"]
WindowNormalization = Literal["default", "none", "column", "window"]

#: what to pip install for tslearn (KShapeAD) and stumpy (long matrix-profile joins): both compile with
#: numba, whose llvmlite alone is ~180 MB, so they are an optional extra
NUMBA_EXTRA = "omniad-timeseries[numba]"

_WINDOW_HELP = "sub-sequence length; None = TSB-AD's period rule (find_length_rank) with 'periodicity'"
_PERIODICITY_HELP = "which autocorrelation peak sets the window when 'window' is None (TSB-AD's rank 1-3)"
_BACKEND_HELP = (
    "matrix-profile joins: numpy (no compilation), stumpy (numba, the [numba] extra; faster on long series "
    "but compiles for tens of seconds per process) or auto (numpy up to 20,000 points or without stumpy)"
)
_POINT_SCORE_HELP = (
    "how window scores become timestep scores: centre = a window's score goes to its centre "
    "timestep (TSB-AD); max_cover = a timestep gets the highest score of all windows that contain it"
)
_NORMALIZE_HELP = (
    "how windows are scaled before the model: default = TSB-AD's choice for this detector; none = raw "
    "windows (keeps the level); column = standardise each window position with training statistics; "
    "window = z-normalise every window on its own (shape only, the level is lost)"
)
_COMBINE_HELP = "how per-channel scores (each min-max scaled) become one score on multivariate input"


class WindowParams(Params):
    window: int | None = Field(default=None, ge=1, description=_WINDOW_HELP)
    periodicity: int = Field(default=1, ge=1, le=3, description=_PERIODICITY_HELP)


class PointScoreParams(Params):
    point_score: PointScore = Field(default="centre", description=_POINT_SCORE_HELP)


class WindowScoringParams(PointScoreParams):
    normalize: WindowNormalization = Field(default="default", description=_NORMALIZE_HELP)


class ChannelParams(Params):
    channel_combine: ChannelCombine = Field(default="mean", description=_COMBINE_HELP)


class SubPCAParams(WindowParams, WindowScoringParams):
    n_components: int | float | None = Field(
        default=None, description="components kept: int, variance fraction in (0, 1), or None = all"
    )
    weighted: bool = Field(default=True, description="divide each component's distance by its variance ratio")


class POLYParams(WindowParams, ChannelParams):
    power: int = Field(default=4, ge=0, le=10, description="degree of the local polynomial")
    neighborhood: int | None = Field(
        default=None, ge=4, description="points around each block used for the fit; None = max(10 * window, 100)"
    )
    smooth: bool = Field(
        default=False,
        description="average the timestep scores over one window (off = TSB-AD's POLY; the rule was chosen "
        "on synthetic and sktime's bundled series, see docs/benchmark-nab.md)",
    )


class IForestParams(WindowParams, WindowScoringParams):
    window: int | None = Field(default=100, ge=1, description=_WINDOW_HELP)
    n_estimators: int = Field(default=200, ge=1)
    max_samples: Literal["auto"] | int | float = Field(default="auto", description="scikit-learn's max_samples")
    max_features: int | float = Field(
        default=1, gt=0,
        description="scikit-learn semantics: an int is a count of window positions per tree, a float a "
        "fraction. TSB-AD passes the int 1 (each tree splits on one random position); 1.0 uses all",
    )


class SubIForestParams(IForestParams):
    window: int | None = Field(default=None, ge=1, description=_WINDOW_HELP)
    n_estimators: int = Field(default=150, ge=1)


class LOFParams(WindowParams, WindowScoringParams):
    window: int | None = Field(default=1, ge=1, description=_WINDOW_HELP)
    n_neighbors: int = Field(default=50, ge=1)
    metric: str = Field(default="minkowski", description="scikit-learn neighbour metric")


class SubLOFParams(LOFParams):
    window: int | None = Field(default=None, ge=1, description=_WINDOW_HELP)
    periodicity: int = Field(default=2, ge=1, le=3, description=_PERIODICITY_HELP)
    n_neighbors: int = Field(default=30, ge=1)


class SubKNNParams(WindowParams, WindowScoringParams):
    periodicity: int = Field(default=2, ge=1, le=3, description=_PERIODICITY_HELP)
    n_neighbors: int = Field(default=50, ge=1)
    method: Literal["largest", "mean", "median"] = Field(default="largest", description="how k distances become one")


class SubHBOSParams(WindowParams, WindowScoringParams):
    n_bins: int = Field(default=10, ge=2)
    alpha: float = Field(default=0.1, gt=0, lt=1, description="added to densities before the log")
    tol: float = Field(default=0.5, ge=0, le=1, description="out-of-range tolerance in bin widths")


class SubMCDParams(WindowParams, WindowScoringParams):
    periodicity: int = Field(default=3, ge=1, le=3, description=_PERIODICITY_HELP)
    support_fraction: float | None = Field(default=None, gt=0, le=1)


class KMeansADParams(WindowParams):
    periodicity: int = Field(default=2, ge=1, le=3, description=_PERIODICITY_HELP)
    n_clusters: int = Field(default=10, ge=1)


class KShapeADParams(WindowParams, ChannelParams):
    n_clusters: int = Field(default=6, ge=1, description="k-Shape clusters of the long subsequences")
    subsequence_factor: int = Field(default=4, ge=1, description="clustered subsequences are this many windows long")
    stride_factor: float = Field(default=1.5, gt=0, description="subsequences start every stride_factor * window points")
    max_iter: int = Field(default=100, ge=1)
    backend: ProfileBackend = Field(default="auto", description=_BACKEND_HELP)


class MatrixProfileParams(WindowParams, ChannelParams, PointScoreParams):
    reference: Literal["self", "train"] = Field(
        default="self",
        description="self = discord score within the scored series (TSB-AD); train = distance to the "
        "nearest subsequence of the training series (semi-supervised)",
    )
    backend: ProfileBackend = Field(default="auto", description=_BACKEND_HELP)

    def omniad_requires(self) -> dict[str, str]:
        """stumpy when asked for by name (checked when a grid is planned); 'auto' does without it."""
        return {"stumpy": NUMBA_EXTRA} if self.backend == "stumpy" else {}


class SRParams(ChannelParams):
    amp_window: int = Field(default=100, ge=1, description="moving-average length over the log spectrum")
    score_window: int = Field(
        default=0, ge=0,
        description="0 = raw saliency (TSB-AD); >0 = saliency relative to its trailing mean over this many "
        "points (Ren et al., KDD 2019)",
    )


class SeasonalParams(WindowParams, ChannelParams):
    trend_periods: float = Field(
        default=4.0, gt=0, description="rolling-median trend spans this many periods (longer keeps level shifts)"
    )
    smooth: int = Field(default=1, ge=1, description="average the residual score over this many steps")


class HampelParams(WindowParams, ChannelParams):
    k: float = Field(default=1.4826, gt=0, description="MAD-to-sigma constant (1.4826 for Gaussian noise)")


class STRAYParams(WindowParams):
    k: int = Field(default=10, ge=1, description="neighbours searched for the largest gap")
    knn_algorithm: Literal["auto", "ball_tree", "kd_tree", "brute"] = "brute"
    smooth: bool = Field(
        default=True,
        description="average the timestep scores over one window (chosen on synthetic and sktime's "
        "bundled series, never on NAB; see docs/benchmark-nab.md)",
    )


class RandomParams(Params):
    """No parameters: the seed passed to the detector makes the scores reproducible."""


class EnsembleMember(Params):
    id: str = Field(description="a registered time-series detector id")
    params: dict = Field(default_factory=dict)


class EnsembleParams(Params):
    members: list[EnsembleMember] = Field(
        default_factory=lambda: [
            EnsembleMember(id="timeseries.poly"),
            EnsembleMember(id="timeseries.sub_pca"),
            EnsembleMember(id="timeseries.kmeansad"),
        ],
        min_length=1,
        description="detectors whose scores are combined; default: the three strongest classic "
        "detectors of TSB-AD's univariate results that run in seconds (KShapeAD left out for its cost)",
    )
    combine: Literal["rank_mean", "minmax_mean", "rank_max"] = Field(
        default="rank_mean", description="how member scores are put on one scale and merged"
    )
