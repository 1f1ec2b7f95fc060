"""omniad's conformance battery for a representative set of PyOD detectors.

Every detector also runs end to end in ``test_pyod_sweep.py``; these classes add the
kit's full checks (cards, parameters, discovery cost, determinism, bad input) with numba
compiled as in real use.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

import omniad
from omniad.testing import DetectorConformance

SMALL_BLOBS = {"n_train": 120, "n_test_normal": 50, "n_test_anomalous": 10, "n_features": 5}


class PyODConformance(DetectorConformance):
    dataset_id = "core.blobs"
    dataset_params: ClassVar[dict[str, Any]] = SMALL_BLOBS
    # Discovery must not import PyOD or its dependencies either (seconds per process).
    heavy_modules: ClassVar[tuple[str, ...]] = (*DetectorConformance.heavy_modules, "pyod", "sklearn", "numba")


class TestKNNConformance(PyODConformance):
    detector_id = "pyod.knn"


class TestKNNMeanConformance(PyODConformance):
    detector_id = "pyod.knn"
    params: ClassVar[dict[str, Any]] = {"method": "mean", "n_neighbors": 3}


class TestIForestConformance(PyODConformance):
    detector_id = "pyod.iforest"
    params: ClassVar[dict[str, Any]] = {"n_estimators": 50}


class TestLOFConformance(PyODConformance):
    detector_id = "pyod.lof"


class TestECODConformance(PyODConformance):
    detector_id = "pyod.ecod"


class TestCOPODConformance(PyODConformance):
    detector_id = "pyod.copod"


class TestPCAConformance(PyODConformance):
    detector_id = "pyod.pca"
    params: ClassVar[dict[str, Any]] = {"n_components": 3}


class TestHBOSConformance(PyODConformance):
    detector_id = "pyod.hbos"


class TestOCSVMConformance(PyODConformance):
    detector_id = "pyod.ocsvm"


class TestGMMConformance(PyODConformance):
    detector_id = "pyod.gmm"
    params: ClassVar[dict[str, Any]] = {"n_components": 3}


class TestMADConformance(PyODConformance):
    """MAD takes one feature: the subset keeps the first blobs column."""

    detector_id = "pyod.mad"

    def make_subset(self) -> omniad.Subset:
        sub = super().make_subset()
        sub.train = omniad.Split(samples=np.asarray(sub.train.samples)[:, :1])
        sub.test.samples = np.asarray(sub.test.samples)[:, :1]
        return sub


class TestCOFConformance(PyODConformance):
    """A transductive detector (fit_on="test"): the kit fits and scores on the test split."""

    detector_id = "pyod.cof"
