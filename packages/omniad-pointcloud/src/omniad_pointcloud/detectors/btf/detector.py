"""BTF detectors: patch features of 3D geometry alone in a memory bank, no pretrained network.

Horwitz & Hoshen (2022) showed that classical 3D descriptors in a PatchCore-style memory
bank beat the deep 3D methods of the time on MVTec 3D-AD. Here a patch is the
``patch_size`` nearest points around each of ``n_centres`` farthest-point-sampled centres;
its feature is either its raw centred coordinates (sorted by distance to the centre), the
mean FPFH of its points, or both (each part scaled by its mean training norm, so neither
dominates). Training patches go through a greedy coreset; a test patch scores its distance
to the nearest bank feature; every input point gets the inverse-distance mean of its
``interpolate_k`` nearest centres' scores, and the cloud the highest patch score.

BTF on MVTec 3D-AD pools the organised 224 x 224 xyz grid; this implementation samples
patches the same way for organised and free clouds (Real3D-AD's BTF baseline does so too).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Array, Int, declare
from omniad_pointcloud.detectors.base import CloudDetector
from omniad_pointcloud.detectors.btf.params import BTFParams

#: FPFH histogram bins (11 per angle, 3 angles)
FPFH_BINS = 33


class BTF(CloudDetector):
    Params = BTFParams
    #: which patch features: "raw", "fpfh" or both
    features: ClassVar[tuple[str, ...]] = ("raw", "fpfh")
    # the bank's width follows from the features and patch_size_ (check_state); patch_size_ is the
    # patch size used at fit (the parameter, or its default lowered for small clouds); folders saved
    # before it existed lack it and mean params.patch_size
    state_spec = declare(
        bank_=Array("m", "d"),
        feature_scale_=Array(2),
        patch_size_=Int(ge=1, le="params.patch_size", optional=True),
    )

    def _width(self, patch_size: int) -> int:
        """Bank columns for patches of ``patch_size`` points."""
        return ("raw" in self.features) * 3 * patch_size + ("fpfh" in self.features) * FPFH_BINS

    def _patch_features(self, points: np.ndarray, k: int) -> tuple[Any, Any]:
        """``(features (M, D), centre coordinates (M, 3))`` of one aligned cloud, as torch tensors."""
        import torch

        from omniad_pointcloud.detectors.btf.bank import farthest_points
        from omniad_pointcloud.features.neighbours import knn

        p = self.params
        pts = torch.as_tensor(points, dtype=torch.float32, device=self.device)
        centres = farthest_points(pts, p.n_centres)
        _, idx = knn(pts, k, pts[centres])
        parts = []
        if "raw" in self.features:
            parts.append((pts[idx] - pts[centres][:, None, :]).reshape(len(centres), -1))
        if "fpfh" in self.features:
            from omniad_pointcloud.features.fpfh import fpfh
            from omniad_pointcloud.features.normals import estimate_normals

            normals = estimate_normals(pts, p.normal_radius, min(p.max_nn, 30))
            desc = fpfh(pts, normals, p.fpfh_radius, p.max_nn)
            parts.append(desc[idx].mean(1))
        return parts, pts[centres]

    def _combine(self, parts: list[Any]) -> Any:
        import torch

        return torch.cat([part / float(s) for part, s in zip(parts, self.feature_scale_, strict=True)], dim=1)

    def _fit(self, samples: Sequence[Any]) -> None:
        import torch

        from omniad_pointcloud.detectors.btf.bank import coreset

        clouds = self._clouds(samples, f"{self.where}.fit")
        self._set_template(clouds)
        smallest = min(len(c) for c in clouds)
        self.patch_size_ = self._limit("patch_size", self.params.patch_size, smallest,
                                       f"a cloud has only {smallest} points")
        per_cloud = [self._patch_features(self._aligned(c), self.patch_size_)[0] for c in clouds]
        groups = [torch.cat([pc[g] for pc in per_cloud]) for g in range(len(self.features))]
        self.feature_scale_ = np.array([max(float(g.norm(dim=1).mean()), 1e-12) for g in groups])
        feats = self._combine(groups)
        gen = torch.Generator().manual_seed(0 if self.seed is None else int(self.seed))
        keep = coreset(feats, max(1, round(self.params.coreset_ratio * len(feats))), gen)
        self.bank_ = feats[keep].cpu().numpy().astype(np.float32)

    def _score(self, samples: Sequence[Any]) -> Scores:
        import torch

        from omniad_pointcloud.detectors.btf.bank import nearest_distance
        from omniad_pointcloud.features.neighbours import knn

        bank = torch.as_tensor(self.bank_, device=self.device)
        where = f"{self.where}.score"
        sample_scores, local = [], []
        for i, cloud in enumerate(self._clouds(samples, where)):
            k = self.patch_size_
            if len(cloud) < k:
                if "raw" in self.features:  # raw patches must have the bank's patch size
                    raise DataError(f"{where}: sample #{i} has {len(cloud)} points but this detector's patches have "
                                    f"{k} (fitted with patch_size={k}); score clouds of at least {k} points")
                k = len(cloud)
            aligned = self._aligned(cloud)
            parts, centres = self._patch_features(aligned, k)
            centre_scores = nearest_distance(bank, self._combine(parts))
            k = min(self.params.interpolate_k, len(centres))
            d, i = knn(centres, k, torch.as_tensor(aligned, device=self.device))
            w = 1.0 / (d.sqrt() + 1e-8)
            point_scores = (centre_scores[i] * w).sum(1) / w.sum(1)
            local.append(point_scores.double().cpu().numpy())
            sample_scores.append(float(centre_scores.max()))
        return Scores(sample=np.array(sample_scores), local=local)

    def get_state(self) -> dict[str, Any]:
        return {"bank_": self.bank_, "feature_scale_": self.feature_scale_, "template_": self.template_,
                "patch_size_": self.patch_size_}

    def check_state(self, state: dict[str, Any]) -> None:
        k = state.get("patch_size_")
        k = self.params.patch_size if k is None else int(k)
        width, want = state["bank_"].shape[1], self._width(k)
        if width != want:
            raise DataError(f"the saved memory bank has {width} columns but {'+'.join(self.features)} patches of "
                            f"{k} points give {want}")
        if not np.all(state["feature_scale_"] > 0):
            raise DataError(f"saved feature_scale_ {state['feature_scale_'].tolist()} must be positive")

    def set_state(self, state: dict[str, Any]) -> None:
        self.bank_ = np.asarray(state["bank_"], dtype=np.float32)
        self.feature_scale_ = np.asarray(state["feature_scale_"], dtype=np.float64)
        self.template_ = np.asarray(state["template_"], dtype=np.float32)
        k = state.get("patch_size_")
        self.patch_size_ = self.params.patch_size if k is None else int(k)

    def provenance(self) -> dict[str, Any]:
        bank = getattr(self, "bank_", None)
        return {"device": self.device, "bank_size": None if bank is None else int(bank.shape[0]),
                "features": list(self.features)}


class BTFRaw(BTF):
    features = ("raw",)
    state_spec = declare(feature_scale_=Array(1))


class BTFFPFH(BTF):
    features = ("fpfh",)
    state_spec = declare(feature_scale_=Array(1))
