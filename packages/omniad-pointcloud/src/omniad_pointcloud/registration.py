"""Registration-aware preprocessing: centre, scale, and optionally ICP onto a template.

Memory-bank detectors compare local features of a test cloud with those of the training
clouds. Raw-coordinate features and the offset network's patches change with the object's
pose and size, so clouds are brought into one frame first. ``center_scale`` removes
translation and size (centroid to the origin, root-mean-square radius 1: unlike the bounding
radius, one bulge or stray point barely changes it, so a defect does not shrink the whole
cloud and make every point look displaced); ``icp`` additionally
rotates each cloud onto a template (the first training cloud, itself centred and scaled)
with point-to-point ICP (Besl & McKay 1992; Kabsch/SVD steps, nearest neighbours in torch).
FPFH is pose-invariant, so FPFH detectors need only ``center_scale`` for their radii.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Align = Literal["none", "center_scale", "icp"]


def center_scale(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``(normalised points, centroid, scale)`` with ``normalised = (points - centroid) / scale``."""
    centroid = points.mean(0)
    scale = float(np.sqrt(np.mean(np.sum((points - centroid) ** 2, axis=1)))) or 1.0
    return ((points - centroid) / scale).astype(np.float32), centroid, scale


def kabsch(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rotation ``R`` and translation ``t`` minimising ``|R source + t - target|`` for paired points."""
    cs, ct = source.mean(0), target.mean(0)
    h = (source - cs).T @ (target - ct)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(vt.T @ u.T))
    r = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return r, ct - r @ cs


def icp(
    source: np.ndarray, target: np.ndarray, *, iterations: int = 50, max_distance: float | None = None,
    tolerance: float = 1e-7, device: str = "cpu",
) -> tuple[np.ndarray, float]:
    """Point-to-point ICP: the 4 x 4 transform taking ``source`` onto ``target``, and the final RMSE.

    Pairs farther apart than ``max_distance`` are ignored (Open3D's ``max_correspondence_distance``).
    """
    import torch

    from omniad_pointcloud.features.neighbours import knn

    tgt = torch.as_tensor(target, dtype=torch.float64, device=device)
    current = np.asarray(source, dtype=np.float64)
    transform = np.eye(4)
    previous = np.inf
    rmse = np.inf
    for _ in range(iterations):
        d, i = knn(tgt, 1, torch.as_tensor(current, dtype=torch.float64, device=device))
        d, i = d[:, 0].sqrt().cpu().numpy(), i[:, 0].cpu().numpy()
        keep = d <= max_distance if max_distance is not None else np.ones(len(d), bool)
        if keep.sum() < 3:
            break
        r, t = kabsch(current[keep], target[i[keep]])
        current = current @ r.T + t
        step = np.eye(4)
        step[:3, :3], step[:3, 3] = r, t
        transform = step @ transform
        rmse = float(np.sqrt(np.mean(d[keep] ** 2)))
        if abs(previous - rmse) < tolerance:
            break
        previous = rmse
    return transform, rmse


def apply(transform: np.ndarray, points: np.ndarray) -> np.ndarray:
    return (points @ transform[:3, :3].T + transform[:3, 3]).astype(np.float32)


def align_cloud(points: np.ndarray, mode: Align, template: np.ndarray | None = None, device: str = "cpu") -> np.ndarray:
    """``points`` in the detectors' common frame (see the module docstring)."""
    if mode == "none":
        return np.asarray(points, dtype=np.float32)
    normalised, _, _ = center_scale(points)
    if mode == "center_scale" or template is None:
        return normalised
    transform, _ = icp(normalised, template, device=device)
    return apply(transform, normalised)
