"""AnomalyNCD-style discovery: the detector's anomalies, cut out and grouped into classes.

Huang et al., "AnomalyNCD: Towards Novel Anomaly Class Discovery in Industrial Scenarios", CVPR
2025. The paper takes the anomaly maps of any detector, isolates each image's main anomalous
element with Main Element Binarization (MEBin: the threshold at which the count of connected
regions stays stable longest), and learns to group those regions with novel class discovery
(a network trained on labelled base classes from auxiliary data, then on the unlabelled
anomalies), merging region predictions per image.

Simplified (no auxiliary labelled classes on this machine, no training): the detector is
AnomalyDINO on the frozen ViT (``score`` is unchanged); MEBin is kept; each image's region is
described by frozen tokens over its main element (the mean residual to the nearest normal
token, which cancels the background, and/or the mean token) and the regions are grouped by
k-means (scikit-learn), the number of classes fixed or chosen by silhouette. ``discover``
returns the classes; ``metrics.clustering`` scores them against true defect types.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from omniad.errors import DataError
from omniad_vision.detectors.anomalydino.model import ReferenceDetector
from omniad_vision.detectors.anomalyncd.params import Params


def main_element(patch_map: np.ndarray, levels: int) -> np.ndarray:
    """MEBin: boolean mask of the map's main anomalous element.

    Thresholds sweep from the map's maximum down to its minimum; the one in the middle of the
    longest run with the same (non-zero) number of 8-connected regions is used, so the mask
    neither breaks into specks nor floods the background. Falls back to the top patch.
    """
    from scipy import ndimage

    lo, hi = float(patch_map.min()), float(patch_map.max())
    if hi <= lo:
        return np.ones_like(patch_map, dtype=bool)
    thresholds = np.linspace(hi, lo, levels + 2)[1:-1]
    counts = [ndimage.label(patch_map >= t, structure=np.ones((3, 3)))[1] for t in thresholds]
    best, start = (0, 0, 0), 0  # (run length, start, end)
    for i in range(1, len(counts) + 1):
        if i == len(counts) or counts[i] != counts[start]:
            if counts[start] > 0 and i - start > best[0]:
                best = (i - start, start, i)
            start = i
    if best[0] == 0:
        return patch_map >= hi
    return patch_map >= thresholds[(best[1] + best[2] - 1) // 2]


def cluster(embeddings: np.ndarray, n_classes: int | None, max_classes: int, seed: int | None) -> tuple[np.ndarray, dict[int, float]]:
    """k-means labels of ``embeddings``; with ``n_classes=None`` the k in 2..max_classes of best silhouette."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    state = 0 if seed is None else int(seed)
    n = len(embeddings)
    if n_classes is not None:
        return KMeans(n_classes, n_init=10, random_state=state).fit_predict(embeddings), {}
    silhouettes, fits = {}, {}
    for k in range(2, min(max_classes, n - 1) + 1):
        labels = KMeans(k, n_init=10, random_state=state).fit_predict(embeddings)
        if len(set(labels.tolist())) > 1:
            silhouettes[k], fits[k] = float(silhouette_score(embeddings, labels)), labels
    if not fits:
        return np.zeros(n, dtype=np.int64), silhouettes
    return fits[max(silhouettes, key=silhouettes.__getitem__)], silhouettes


@dataclass
class Discovery:
    """What ``discover`` found: a class per image, the region descriptors and main-element masks (patch grid)."""

    labels: np.ndarray
    n_classes: int
    embeddings: np.ndarray
    masks: list[np.ndarray]
    silhouettes: dict[int, float] = field(default_factory=dict)


class AnomalyNCD(ReferenceDetector):
    """AnomalyNCD (Huang et al., CVPR 2025), training-free: MEBin regions of AnomalyDINO maps, k-means classes."""

    Params = Params

    def region_embeddings(self, samples: Sequence[Any]) -> tuple[np.ndarray, list[np.ndarray]]:
        """``(N, E)`` unit descriptors of each image's main anomalous element, and the elements' patch masks."""
        p: Params = self.params
        where = f"{self.where}.discover"
        out, masks = [], []
        with torch.inference_mode():
            for _, _, x in self.batches(samples, where):
                tok = self.tokens(x)
                b, d, h, w = tok.shape
                q = tok.permute(0, 2, 3, 1).reshape(-1, d)
                dist, idx = self.nn_.search(q, 1)
                residual = (q - self.memory_bank_[idx[:, 0]]).reshape(b, h * w, d)
                patch = (dist[:, 0].pow(2) / 2.0).reshape(b, h, w).cpu().numpy()
                q = q.reshape(b, h * w, d)
                for i in range(b):
                    mask = main_element(patch[i], p.binarize_levels)
                    m = torch.from_numpy(mask.reshape(-1)).to(q.device)
                    weight = torch.from_numpy(patch[i].reshape(-1)).to(q.device)[m]
                    parts = []
                    if p.embedding in ("residual", "both"):
                        parts.append(F.normalize((residual[i][m] * weight[:, None]).sum(0), dim=0))
                    if p.embedding in ("token", "both"):
                        parts.append(F.normalize(q[i][m].mean(0), dim=0))
                    out.append((torch.cat(parts) / len(parts) ** 0.5).cpu().numpy())
                    masks.append(mask)
        return np.stack(out).astype(np.float64), masks

    def discover(self, samples: Any, n_classes: int | None = None) -> Discovery:
        """Group anomalous images (e.g. the ones the detector flagged) into classes of defects."""
        where = f"{self.where}.discover"
        self._require_fitted(where)
        samples = self._as_samples(samples, where, "score")
        p: Params = self.params
        k = n_classes if n_classes is not None else p.n_classes
        if len(samples) < 3 or (k is not None and k > len(samples)):
            raise DataError(f"{where}: got {len(samples)} images for {k or 'at least 2'} classes; "
                            "pass at least 3 anomalous images and no more classes than images")
        embeddings, masks = self.region_embeddings(samples)
        labels, silhouettes = cluster(embeddings, k, p.max_classes, self.seed)
        return Discovery(labels=labels, n_classes=len(set(labels.tolist())), embeddings=embeddings, masks=masks,
                         silhouettes=silhouettes)
