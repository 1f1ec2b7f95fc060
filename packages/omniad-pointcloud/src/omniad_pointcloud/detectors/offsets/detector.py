"""Corrective-offset detector, in the spirit of MC4AD (the issue's seed paper).

Trained from scratch on normal clouds only: each step puts a synthetic smooth bulge or dent
(``omniad_pointcloud.defects.displace``) on a normal training cloud, and the network learns
to predict, for every point from its local patch, the offset that moves it back onto the
normal surface (minus the displacement; zero where nothing moved). On a test cloud, a point
whose neighbourhood does not look like normal surface gets a large predicted correction: the
point score is the norm of that offset, the cloud score the mean of its top ``top_fraction``
point scores. No pretrained weights are needed.

What is left out of MC4AD: its multi-scale backbone, the shape-level completion branch and the
defect types it synthesises beyond bumps and dents.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Array, Float, Int, Module, declare
from omniad_pointcloud.detectors.base import CloudDetector
from omniad_pointcloud.detectors.offsets.params import OffsetParams

NET = "net"


class CorrectiveOffsets(CloudDetector):
    uses_torch = True
    Params = OffsetParams
    state_spec = declare(
        k_=Int(ge=1, le="params.k"),
        patch_scale_=Float(gt=0),
        offset_scale_=Float(gt=0),
        train_loss_=Array("steps"),
        net=Module(),  # OffsetNet(params.hidden), loaded with strict=True in set_state
    )

    def _patches(self, pts: Any) -> tuple[Any, Any]:
        """Each point's ``k`` neighbours in its local frame, scaled, and the frames."""
        from omniad_pointcloud.detectors.offsets.model import local_frames
        from omniad_pointcloud.features.neighbours import knn

        _, idx = knn(pts, self.k_ + 1)
        rel, frames = local_frames(pts, idx)
        return rel / self.patch_scale_, frames

    def _fit(self, samples: Sequence[Any]) -> None:
        import torch

        from omniad_pointcloud.defects import displace
        from omniad_pointcloud.detectors.offsets.model import OffsetNet
        from omniad_pointcloud.features.neighbours import knn
        from omniad_pointcloud.features.normals import estimate_normals

        p = self.params
        clouds = self._clouds(samples, f"{self.where}.fit")
        self._set_template(clouds)
        smallest = min(len(c) for c in clouds)
        self.k_ = self._limit("k", p.k, smallest - 1, f"the smallest training cloud has {smallest} points")
        aligned = [self._aligned(c) for c in clouds]
        rng = np.random.default_rng(0 if self.seed is None else self.seed)
        tensors, normals = [], []
        for a in aligned:
            t = torch.as_tensor(a, dtype=torch.float32, device=self.device)
            tensors.append(t)
            normals.append(estimate_normals(t, p.normal_radius, 30).cpu().numpy())
        # patches are always built on clouds of max_points (training steps and scoring alike), so the
        # network sees one point density whatever the scanner's resolution
        kth = [float(knn(t[self._subset(len(t), rng)], self.k_ + 1)[0][:, -1].sqrt().median()) for t in tensors]
        self.patch_scale_ = max(float(np.median(kth)), 1e-6)
        # targets in units of a typical synthetic bump, so the network regresses numbers near 1
        self.offset_scale_ = float(np.mean(p.defect_depth)) * 0.5
        self.net_ = OffsetNet(p.hidden).to(self.device)
        opt = torch.optim.Adam(self.net_.parameters(), lr=p.lr)
        losses = []
        order = [int(ci) for _ in range(p.epochs) for ci in rng.permutation(len(aligned))]
        while len(order) < p.min_steps:  # few clouds: more passes, so the network sees enough bumps
            order += [int(ci) for ci in rng.permutation(len(aligned))]
        for ci in order:
            pts = aligned[ci]
            take = self._subset(len(pts), rng)
            pts, nrm = pts[take], normals[ci][take]
            disp = np.zeros_like(pts)
            if rng.random() >= p.clean_fraction:
                for _ in range(int(rng.integers(1, p.max_bumps + 1))):
                    bump, _ = displace(pts, nrm, rng, size=float(rng.uniform(*p.defect_size)),
                                       depth=float(rng.uniform(*p.defect_depth)), sign=float(rng.choice([-1.0, 1.0])))
                    disp = disp + bump
            moved = torch.as_tensor(pts + disp, device=self.device)
            rel, frames = self._patches(moved)
            target = torch.einsum("ni,nij->nj", torch.as_tensor(-disp, device=self.device), frames) / self.offset_scale_
            pred = self.net_(rel)
            err = ((pred - target) ** 2).sum(1)
            moved_mask = target.norm(dim=1) > 0
            loss = err.mean() + (err[moved_mask].mean() if bool(moved_mask.any()) else 0.0)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        self.train_loss_ = np.asarray(losses, dtype=np.float64)
        self.net_.eval()

    def _subset(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.sort(rng.choice(n, size=min(self.params.max_points, n), replace=False))

    def _score(self, samples: Sequence[Any]) -> Scores:
        import torch

        from omniad_pointcloud.features.neighbours import knn

        sample_scores, local = [], []
        for cloud in self._clouds(samples, f"{self.where}.score"):
            pts = torch.as_tensor(self._aligned(cloud), dtype=torch.float32, device=self.device)
            if len(pts) <= self.k_:
                raise DataError(f"{self.where}.score: a cloud has {len(pts)} points, fewer than k+1 = {self.k_ + 1}")
            # a fixed seed per cloud size: the same cloud always gets the same points, then every
            # point takes the score of its nearest scored point
            take = torch.as_tensor(self._subset(len(pts), np.random.default_rng(len(pts))), device=self.device)
            with torch.inference_mode():
                sub = pts[take]
                kept = self.net_(self._patches(sub)[0]).norm(dim=1) * self.offset_scale_
                nearest = knn(sub, 1, pts)[1][:, 0]
                s = kept[nearest].double().cpu().numpy()
            top = max(1, round(self.params.top_fraction * len(s)))
            sample_scores.append(float(np.sort(s)[-top:].mean()))
            local.append(s)
        return Scores(sample=np.array(sample_scores), local=local)

    def get_state(self) -> dict[str, Any]:
        from omniad.torchstate import module_arrays

        return {"k_": self.k_, "patch_scale_": self.patch_scale_, "offset_scale_": self.offset_scale_,
                "template_": self.template_,
                "train_loss_": self.train_loss_, **module_arrays(self.net_, NET)}

    def check_state(self, state: dict[str, Any]) -> None:
        k, most = int(state["k_"]), self.params.max_points - 1
        if k > most:  # patches are built on at most max_points points
            raise DataError(f"saved k_ = {k} needs clouds of more than max_points = {self.params.max_points} points; "
                            f"at most {most}")

    def set_state(self, state: dict[str, Any]) -> None:
        from omniad.torchstate import load_module_arrays
        from omniad_pointcloud.detectors.offsets.model import OffsetNet

        self.k_ = int(state["k_"])
        self.patch_scale_ = float(state["patch_scale_"])
        self.offset_scale_ = float(state["offset_scale_"])
        self.template_ = np.asarray(state["template_"], dtype=np.float32)
        self.train_loss_ = np.asarray(state["train_loss_"], dtype=np.float64)
        self.net_ = OffsetNet(self.params.hidden)
        load_module_arrays(self.net_, state, NET)
        self.net_.to(self.device).eval()

    def provenance(self) -> dict[str, Any]:
        loss = getattr(self, "train_loss_", None)
        return {"device": self.device, "final_loss": None if loss is None or not len(loss) else float(loss[-1])}
