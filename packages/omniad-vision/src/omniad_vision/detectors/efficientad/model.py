"""EfficientAD detector: a student PDN mimics a frozen teacher PDN, an autoencoder mimics it globally.

Two discrepancies make the map: student vs teacher (local anomalies: the student only
learned to imitate the teacher on normal patches, helped by the hard-feature loss that
trains only on the worst-imitated 0.1% of feature values) and student vs autoencoder
(logical anomalies: the autoencoder, squeezed through a 64-d code, can only reproduce
normal layouts). Each map is normalised with its quantiles on held-out normal images so
that both contribute on the same scale; the image score is the combined map's maximum.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Array, Int, Module, declare
from omniad.torchstate import load_module_arrays, module_arrays
from omniad_vision.detectors.base import VisionDetector
from omniad_vision.detectors.efficientad.augment import PenaltyImages, colour_jitter, random_views
from omniad_vision.detectors.efficientad.networks import PDN, AutoEncoder, pdn_output_size
from omniad_vision.detectors.efficientad.params import Params
from omniad_vision.detectors.efficientad.teacher import distil_teacher, load_teacher
from omniad_vision.preprocess import input_size, load_unit_images, normalize, normalized_batches, score_images
from omniad_vision.training import step_batches, torch_generator

MAX_QUANTILE_ELEMENTS = 2**24  # torch.quantile's limit


class EfficientADNet(nn.Module):
    """Teacher, student (2x channels: teacher half + autoencoder half) and autoencoder, plus statistics."""

    def __init__(self, params: Params, out_channels: int) -> None:
        super().__init__()
        size = input_size(params)
        self.channels = out_channels
        self.size = size
        self.grid = pdn_output_size(params.model_size, params.padding, size)
        self.teacher = PDN(params.model_size, out_channels, params.padding).requires_grad_(False)
        self.student = PDN(params.model_size, 2 * out_channels, params.padding)
        self.ae = AutoEncoder(out_channels, size, self.grid)
        self.register_buffer("teacher_mean", torch.zeros(1, out_channels, 1, 1))
        self.register_buffer("teacher_std", torch.ones(1, out_channels, 1, 1))
        self.register_buffer("quantiles", torch.tensor([0.0, 1.0, 0.0, 1.0]))  # qa_st, qb_st, qa_ae, qb_ae

    @staticmethod
    def layout(x: torch.Tensor) -> torch.Tensor:
        """Channels-last inputs: oneDNN's PDN convolutions run about a third faster on CPU that way."""
        return x.contiguous(memory_format=torch.channels_last)

    def teacher_features(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return (self.teacher(x) - self.teacher_mean) / self.teacher_std

    def raw_maps(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Unnormalised student-teacher and student-autoencoder maps at model input size."""
        c = self.channels
        x = self.layout(x)
        s = self.student(x)
        map_st = ((self.teacher_features(x) - s[:, :c]) ** 2).mean(dim=1, keepdim=True)
        map_ae = ((self.ae(x) - s[:, c:]) ** 2).mean(dim=1, keepdim=True)
        return self.to_input_grid(map_st), self.to_input_grid(map_ae)

    def to_input_grid(self, maps: torch.Tensor) -> torch.Tensor:
        """Zero-pad an unpadded PDN's map back onto the input's stride-4 grid, then upsample."""
        pads = []
        for side, cells in zip(reversed(self.size), reversed(self.grid), strict=True):
            extra = max(0, -(-side // 4) - cells)
            pads += [extra // 2, extra - extra // 2]
        maps = F.pad(maps, pads)
        return F.interpolate(maps, size=self.size, mode="bilinear", align_corners=False)[:, 0]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        map_st, map_ae = self.raw_maps(x)
        qa_st, qb_st, qa_ae, qb_ae = self.quantiles
        combined = 0.5 * (0.1 * (map_st - qa_st) / (qb_st - qa_st)) + 0.5 * (0.1 * (map_ae - qa_ae) / (qb_ae - qa_ae))
        return combined, combined.flatten(1).amax(dim=1)


class ScoreFirst(nn.Module):
    """(score, map) output order, as every exported omniad vision model and ``score_images`` have it."""

    def __init__(self, net: EfficientADNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        maps, scores = self.net(x)
        return scores, maps


def hard_feature_loss(distance: torch.Tensor, quantile: float, generator: torch.Generator) -> torch.Tensor:
    """Mean of the squared differences at or above their ``quantile`` (the paper's L_hard)."""
    flat = distance.flatten()
    sample = flat
    if flat.numel() > MAX_QUANTILE_ELEMENTS:
        pick = torch.randperm(flat.numel(), generator=generator)[:MAX_QUANTILE_ELEMENTS].to(flat.device)
        sample = flat[pick]
    threshold = torch.quantile(sample.detach(), quantile)
    return flat[flat >= threshold].mean()


class EfficientAD(VisionDetector):
    """EfficientAD-S/M (Batzner et al., WACV 2024) with a locally distilled teacher."""

    Params = Params
    #: the whole network's state dict; its c teacher channels fix the statistics' shapes and out_channels
    state_spec = declare({
        "net": Module(),
        "net.teacher_mean": Array(1, "c", 1, 1),
        "net.teacher_std": Array(1, "c", 1, 1),
        "net.quantiles": Array(4),
        "out_channels": Int(ge=1, bind="c"),
    })

    def check_state(self, state: dict[str, Any]) -> None:
        wanted = self.params.out_channels
        if wanted is not None and state["out_channels"] != wanted:
            raise DataError(f"{self.where}: saved out_channels={state['out_channels']} but the parameters say "
                            f"out_channels={wanted}; re-save the model")
        qa_st, qb_st, qa_ae, qb_ae = (float(v) for v in state["net.quantiles"])
        if not (qb_st > qa_st and qb_ae > qa_ae):
            raise DataError(f"{self.where}: saved map quantiles {[qa_st, qb_st, qa_ae, qb_ae]} are not increasing "
                            "pairs (q_a < q_b); re-save the model")
        if np.any(state["net.teacher_std"] <= 0):
            raise DataError(f"{self.where}: saved teacher_std has values <= 0; re-save the model")

    def provenance(self) -> dict[str, Any]:
        """How the teacher was made (distilled on the fly: which backbone levels, final loss)."""
        info = getattr(self, "distillation_", None)
        if info is None:
            p: Params = self.params
            return {"teacher": str(p.teacher_weights) if p.teacher_weights is not None else p.teacher_init}
        return {"teacher": "distilled", "backbone": info["backbone"], "backbone_layers": list(info["layers"]),
                "distil_final_loss": info["final_loss"]}

    def _fit(self, samples: Sequence[Any]) -> None:
        p: Params = self.params
        where = f"{self.where}.fit"
        generator = torch_generator(self.seed)
        images = load_unit_images(samples, input_size(p), where)
        train, val = self._hold_out(images, generator)
        teacher = self._teacher(train, generator, where)
        net = EfficientADNet(p, teacher.layers[-1].out_channels)
        net.teacher.load_state_dict(teacher.state_dict())
        self.net = net.to(self.device, memory_format=torch.channels_last)
        self._teacher_statistics(train)
        self._train(train, generator, where)
        self._map_quantiles(val)

    def _hold_out(self, images: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        n = images.shape[0]
        n_val = round(n * self.params.val_fraction)
        if n_val == 0 or n - n_val < 1:
            return images, images
        order = torch.randperm(n, generator=generator)
        return images[order[n_val:]], images[order[:n_val]]

    def _teacher(self, train: torch.Tensor, generator: torch.Generator, where: str) -> PDN:
        p: Params = self.params
        if p.teacher_weights is not None:
            return load_teacher(
                p.teacher_weights, model_size=p.model_size, padding=p.padding, out_channels=p.out_channels,
                mean=p.mean, std=p.std, where=where,
            )
        if p.teacher_init == "random":
            return PDN(p.model_size, p.out_channels or 384, p.padding).eval()

        def draw(n: int) -> torch.Tensor:
            idx = torch.randint(0, train.shape[0], (n,), generator=generator)
            return random_views(train[idx], generator, crop=p.distil_crop)

        pdn, info = distil_teacher(
            draw, model_size=p.model_size, out_channels=p.out_channels, padding=p.padding, size=input_size(p),
            backbone=p.backbone, backbone_weights=p.backbone_weights, layers=p.backbone_layers, mean=p.mean,
            std=p.std, steps=p.distil_steps, batch_size=p.distil_batch_size, lr=p.distil_lr, device=self.device,
            where=where,
        )
        self.distillation_ = info
        return pdn.cpu()

    def _batches(self, images: torch.Tensor) -> Any:
        p: Params = self.params
        return normalized_batches(images, p.batch_size, p.mean, p.std, self.device)

    def _teacher_statistics(self, train: torch.Tensor) -> None:
        """Per-channel mean/std of the teacher on the training images, accumulated in float64."""
        count, total, squares = 0, 0.0, 0.0
        with torch.no_grad():
            for x in self._batches(train):
                f = self.net.teacher(self.net.layout(x)).transpose(0, 1).flatten(1).double()
                count, total, squares = count + f.shape[1], total + f.sum(dim=1), squares + (f * f).sum(dim=1)
        mean = total / count
        var = (squares - count * mean * mean) / max(1, count - 1)
        self.net.teacher_mean.copy_(mean.float().view(1, -1, 1, 1))
        self.net.teacher_std.copy_(var.clamp_min(1e-12).sqrt().float().view(1, -1, 1, 1))

    def _train(self, train: torch.Tensor, generator: torch.Generator, where: str) -> None:
        p: Params = self.params
        net, c = self.net, self.net.channels
        penalty = PenaltyImages(p.penalty_images, input_size(p), where) if p.penalty_images else None
        params = [*net.student.parameters(), *net.ae.parameters()]
        optimizer = torch.optim.Adam(params, lr=p.lr, weight_decay=p.weight_decay)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, int(0.95 * p.train_steps)), gamma=0.1)
        net.student.train()
        net.ae.train()
        losses = []
        for idx in step_batches(train.shape[0], p.train_batch_size, p.train_steps, generator):
            x = train[idx].to(self.device)
            xn = net.layout(normalize(x, p.mean, p.std))
            distance = (net.teacher_features(xn) - net.student(xn)[:, :c]) ** 2
            loss = hard_feature_loss(distance, p.hard_quantile, generator)
            if penalty is not None:
                pn = net.layout(normalize(penalty.draw(x.shape[0], generator).to(self.device), p.mean, p.std))
                loss = loss + (net.student(pn)[:, :c] ** 2).mean()
            xa = net.layout(normalize(colour_jitter(x, generator), p.mean, p.std))
            ae_out = net.ae(xa)
            loss = loss + ((net.teacher_features(xa) - ae_out) ** 2).mean()
            loss = loss + ((ae_out - net.student(xa)[:, c:]) ** 2).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(float(loss.detach()))
        net.eval()
        self.train_losses_ = losses

    def _map_quantiles(self, val: torch.Tensor) -> None:
        qa, qb = self.params.map_quantiles
        st, ae = [], []
        with torch.no_grad():
            for x in self._batches(val):
                map_st, map_ae = self.net.raw_maps(x)
                st.append(map_st.flatten().cpu().numpy())
                ae.append(map_ae.flatten().cpu().numpy())
        values = []
        for maps in (np.concatenate(st), np.concatenate(ae)):
            lo, hi = np.quantile(maps, [qa, qb])
            values += [lo, max(hi, lo + 1e-12)]
        self.net.quantiles.copy_(torch.tensor(values, dtype=torch.float32))

    def _score(self, samples: Sequence[Any]) -> Scores:
        self.net.to(self.device).eval()
        return score_images(samples, self.params, self.device, f"{self.where}.score", ScoreFirst(self.net))

    def export_onnx(self, path: str | Path, *, opset: int = 17) -> Path:
        """Write the fitted model as ONNX: input ``image`` = normalised ``(B, 3, H, W)`` at
        ``image_size`` (``preprocess.to_tensor`` makes it); outputs ``score (B,)`` and
        ``anomaly_map (B, H, W)`` at ``image_size``, quantile normalisation included."""
        from omniad_vision.export import export_graph

        where = f"{self.where}.export_onnx"
        self._require_fitted(where)
        return export_graph(ScoreFirst(self.net.eval()), path, input_size(self.params), opset=opset, where=where)

    # -- persistence -----------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        return {**module_arrays(self.net, "net"), "out_channels": int(self.net.channels)}

    def set_state(self, state: dict[str, Any]) -> None:
        self.net = EfficientADNet(self.params, int(state["out_channels"]))
        load_module_arrays(self.net, state, "net")
        self.net.to(memory_format=torch.channels_last).eval()
