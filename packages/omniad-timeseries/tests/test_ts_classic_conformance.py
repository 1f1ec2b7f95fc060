"""The conformance kit for every classic time-series detector, on two small synthetic series."""

from __future__ import annotations

from typing import Any, ClassVar

from omniad.data import Split, Subset
from omniad.plugins import get_registry
from omniad.testing import DetectorConformance

SMALL = {"n_series": 2, "length": 360, "period": 20, "train_length": 120, "n_anomalies": 2, "noise": 0.05}
_CACHE: dict[str, Subset] = {}


class ClassicConformance(DetectorConformance):
    """Shared small data: train on one 120-step clean prefix, score two 360-step series (period 20).

    Two test series, because the kit checks that sample scores differ between samples.
    """

    def make_subset(self) -> Subset:
        if "small" not in _CACHE:
            dataset = get_registry().get("dataset", "timeseries.synthetic").create(SMALL)
            first, second = list(dataset.subsets())
            test = Split(
                samples=[first.test.samples[0], second.test.samples[0]],
                targets=[first.test.targets[0], second.test.targets[0]],
                ids=["a", "b"],
            )
            _CACHE["small"] = Subset(name="small", train=first.train, test=test).validate("test data")
        return _CACHE["small"]


class TestPOLY(ClassicConformance):
    detector_id = "timeseries.poly"


class TestSubPCA(ClassicConformance):
    detector_id = "timeseries.sub_pca"


class TestIForest(ClassicConformance):
    detector_id = "timeseries.iforest"
    params: ClassVar[dict[str, Any]] = {"window": 30, "n_estimators": 20}


class TestSubIForest(ClassicConformance):
    detector_id = "timeseries.sub_iforest"
    params: ClassVar[dict[str, Any]] = {"n_estimators": 20}


class TestLOF(ClassicConformance):
    detector_id = "timeseries.lof"


class TestSubLOF(ClassicConformance):
    detector_id = "timeseries.sub_lof"


class TestSubKNN(ClassicConformance):
    detector_id = "timeseries.sub_knn"


class TestSubHBOS(ClassicConformance):
    detector_id = "timeseries.sub_hbos"


class TestSubMCD(ClassicConformance):
    detector_id = "timeseries.sub_mcd"
    params: ClassVar[dict[str, Any]] = {"window": 8}


class TestKMeansAD(ClassicConformance):
    detector_id = "timeseries.kmeansad"


class TestKShapeAD(ClassicConformance):
    detector_id = "timeseries.kshapead"
    params: ClassVar[dict[str, Any]] = {"n_clusters": 3, "max_iter": 20}


class TestMatrixProfile(ClassicConformance):
    detector_id = "timeseries.matrix_profile"


class TestMatrixProfileTrain(ClassicConformance):
    detector_id = "timeseries.matrix_profile"
    params: ClassVar[dict[str, Any]] = {"reference": "train"}


class TestSR(ClassicConformance):
    detector_id = "timeseries.sr"


class TestSeasonal(ClassicConformance):
    detector_id = "timeseries.seasonal"


class TestHampel(ClassicConformance):
    detector_id = "timeseries.hampel"


class TestSTRAY(ClassicConformance):
    detector_id = "timeseries.stray"


class TestRandom(ClassicConformance):
    detector_id = "timeseries.random"


class TestEnsemble(ClassicConformance):
    detector_id = "timeseries.ensemble"
    params: ClassVar[dict[str, Any]] = {
        "members": [{"id": "timeseries.poly"}, {"id": "timeseries.sub_knn", "params": {"n_neighbors": 5}}]
    }
