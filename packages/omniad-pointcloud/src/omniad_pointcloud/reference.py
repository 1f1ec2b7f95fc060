"""Open3D, the reference implementation the tests and benchmarks compare against (optional).

``open3d-cpu`` links ``libusb-1.0``, which a bare machine (CI, containers) lacks; the
``libusb-package`` wheel ships that library, so on that import error it is preloaded and the
import retried. Never imported by detectors: Open3D is an optional extra (``[open3d]``).
"""

from __future__ import annotations

import ctypes
import importlib
from pathlib import Path
from typing import Any

import numpy as np

_open3d: Any = None


def open3d() -> Any | None:
    """The Open3D module, or None when it cannot be imported here."""
    global _open3d
    if _open3d is not None:
        return _open3d
    try:
        _open3d = importlib.import_module("open3d")
    except ImportError as exc:
        if "libusb" not in str(exc):
            return None
        try:
            import libusb_package

            ctypes.CDLL(str(Path(libusb_package.__file__).parent / "libusb-1.0.so"), mode=ctypes.RTLD_GLOBAL)
            _open3d = importlib.import_module("open3d")
        except (ImportError, OSError):
            return None
    return _open3d


def _cloud(points: np.ndarray, normals: np.ndarray | None = None) -> Any:
    o3d = open3d()
    pc = o3d.geometry.PointCloud()
    pc.points = o3d.utility.Vector3dVector(np.asarray(points, dtype=np.float64))
    if normals is not None:
        pc.normals = o3d.utility.Vector3dVector(np.asarray(normals, dtype=np.float64))
    return pc


def fpfh(points: np.ndarray, normals: np.ndarray, radius: float, max_nn: int) -> np.ndarray:
    """Open3D's FPFH ``(N, 33)`` with the given normals."""
    o3d = open3d()
    param = o3d.geometry.KDTreeSearchParamHybrid(radius=radius, max_nn=max_nn)
    feat = o3d.pipelines.registration.compute_fpfh_feature(_cloud(points, normals), param)
    return np.asarray(feat.data).T.copy()


def normals(points: np.ndarray, radius: float, max_nn: int) -> np.ndarray:
    o3d = open3d()
    pc = _cloud(points)
    pc.estimate_normals(o3d.geometry.KDTreeSearchParamHybrid(radius=radius, max_nn=max_nn))
    return np.asarray(pc.normals).copy()


def icp(source: np.ndarray, target: np.ndarray, max_distance: float, iterations: int = 50) -> np.ndarray:
    """Open3D point-to-point ICP: the 4 x 4 transform taking ``source`` onto ``target``."""
    o3d = open3d()
    reg = o3d.pipelines.registration
    result = reg.registration_icp(
        _cloud(source), _cloud(target), max_distance, np.eye(4), reg.TransformationEstimationPointToPoint(),
        reg.ICPConvergenceCriteria(max_iteration=iterations),
    )
    return np.asarray(result.transformation).copy()
