"""Entry point of the ``omniad`` group (see ``pyproject.toml``): registers the components.

omniad imports this module for every command, including ``omniad list``, so it must stay
cheap: it names classes as ``"module:attr"`` strings and never imports them. The class is
imported only when someone uses the component.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from omniad import hookimpl

if TYPE_CHECKING:
    from omniad.registry import Registrar

#: The id prefixes this plugin owns (ids read ``template.<name>``): omniad refuses ids
#: outside them, and another plugin cannot take them. The only place the prefix is written;
#: the tests read it from here.
OMNIAD_PREFIXES = ("template",)
PREFIX = OMNIAD_PREFIXES[0]
#: import path of this package, so renaming the package needs no edit here.
_PKG = __name__.rpartition(".")[0]


@hookimpl
def omniad_register_detectors(registry: Registrar) -> None:
    registry.add(
        id=f"{PREFIX}.robust_zscore",
        target=f"{_PKG}.detector:RobustZScore",
        params=f"{_PKG}.params:RobustZScoreParams",
        modality="tabular",
        summary="Per-feature robust z-score (median / MAD) of feature vectors, aggregated per sample",
        reference="Iglewicz & Hoaglin, How to Detect and Handle Outliers, ASQC 1993",
        tags=("statistical", "interpretable"),
        demo=True,
    )


@hookimpl
def omniad_register_datasets(registry: Registrar) -> None:
    registry.add(
        id=f"{PREFIX}.sparse_shift",
        split_seed_param="seed",
        target=f"{_PKG}.dataset:SparseShift",
        params=f"{_PKG}.params:SparseShiftParams",
        modality="tabular",
        summary="Correlated Gaussian vectors; anomalies shift a few features only (one subset per shift size)",
        demo=True,
        demo_params={"n_train": 200, "n_test_normal": 100, "n_test_anomalous": 20},
    )


@hookimpl
def omniad_register_metrics(registry: Registrar) -> None:
    registry.add(
        id=f"{PREFIX}.recall_at_fpr",
        target=f"{_PKG}.metric:RecallAtFPR",
        params=f"{_PKG}.params:RecallAtFPRParams",
        modality="any",
        level="sample",
        short_name="Recall@FPR",
        summary="Share of anomalies caught when at most max_fpr of the normal samples are flagged",
    )
