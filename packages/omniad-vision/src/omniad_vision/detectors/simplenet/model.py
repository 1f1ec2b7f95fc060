"""SimpleNet detector: a discriminator learns where adapted normal features end.

Pretrained features are biased towards ImageNet; a linear adaptor moves them towards the
target domain. Anomalous features are simulated by adding Gaussian noise to adapted normal
ones, and a small MLP discriminator is trained with the truncated L1 loss to score normal
features above ``margin`` and noisy ones below ``-margin``. Because the backbone is frozen,
its features are computed once; training touches only the adaptor and the discriminator.
At test time the negated discriminator output of every patch is the anomaly map and its
maximum the image score.

Deviations from the reference code: any timm backbone with local weights; PatchCore's
locally aware features are concatenated as they are (the reference pools every layer to
1,536 channels); and the model after the last epoch is kept (the reference keeps the epoch
with the best *test* score, which needs test labels).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from omniad.errors import DataError
from omniad.state import Module, declare
from omniad.torchstate import load_module_arrays, module_arrays
from omniad_vision.backbones import FeatureExtractor
from omniad_vision.detectors.backbone_detector import BACKBONE_PREFIX, BackboneDetector
from omniad_vision.detectors.simplenet.params import Params
from omniad_vision.features import patch_embedding
from omniad_vision.preprocess import patch_scores_to_maps
from omniad_vision.training import step_batches, torch_generator

HEAD_PREFIXES = ("adaptor", "discriminator")


def make_heads(dim: int, params: Params) -> tuple[nn.Module, nn.Module]:
    """The trainable parts: linear adaptor and Linear-BN-LeakyReLU-Linear discriminator (Xavier init)."""
    adaptor = nn.Linear(dim, dim) if params.adaptor else nn.Identity()
    discriminator = nn.Sequential(
        nn.Linear(dim, params.hidden), nn.BatchNorm1d(params.hidden), nn.LeakyReLU(0.2), nn.Linear(params.hidden, 1)
    )
    for module in (*adaptor.modules(), *discriminator.modules()):
        if isinstance(module, nn.Linear):
            nn.init.xavier_normal_(module.weight)
    return adaptor, discriminator


class SimpleNetGraph(nn.Module):
    """Normalised image batch -> (image scores, anomaly maps at image_size); also what ONNX export traces."""

    def __init__(self, extractor: FeatureExtractor, adaptor: nn.Module, discriminator: nn.Module, *,
                 pool_size: int, image_size: tuple[int, int], blur_sigma: float) -> None:
        super().__init__()
        self.extractor, self.adaptor, self.discriminator = extractor, adaptor, discriminator
        self.pool_size, self.image_size, self.blur_sigma = pool_size, image_size, blur_sigma

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return patch_embedding(self.extractor(x), self.pool_size)

    def score(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        emb = self.embed(x)
        b, d, h, w = emb.shape
        patch = -self.discriminator(self.adaptor(emb.permute(0, 2, 3, 1).reshape(-1, d))).reshape(b, h, w)
        return patch.flatten(1).amax(dim=1), patch_scores_to_maps(patch, self.image_size, self.blur_sigma)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.score(x)


def truncated_l1(real: torch.Tensor, fake: torch.Tensor, margin: float) -> torch.Tensor:
    """max(0, th - D(real)) + max(0, th + D(fake)), averaged over patches."""
    return F.relu(margin - real).mean() + F.relu(margin + fake).mean()


class SimpleNet(BackboneDetector):
    """SimpleNet (Liu et al., CVPR 2023) on a timm backbone with local weights."""

    Params = Params
    #: the heads' torch state dicts; no adaptor arrays when ``adaptor=False`` (an identity)
    state_spec = declare(adaptor=Module(optional=True), discriminator=Module())

    def _graph(self, extractor: FeatureExtractor) -> SimpleNetGraph:
        p: Params = self.params
        adaptor, discriminator = make_heads(sum(extractor.channels), p)
        return SimpleNetGraph(extractor, adaptor, discriminator, pool_size=p.pool_size, image_size=self.size,
                              blur_sigma=p.blur_sigma).to(self.device)

    def _fit(self, samples: Sequence[Any]) -> None:
        graph = self._graph(self.build_extractor(self.params.weights))
        with torch.no_grad():
            feats = torch.cat([graph.embed(x).cpu() for _, _, x in self.batches(samples, f"{self.where}.fit")])
        self.graph_ = graph
        self._train(feats, torch_generator(self.seed))
        graph.eval()

    def _train(self, feats: torch.Tensor, generator: torch.Generator) -> None:
        p: Params = self.params
        graph = self.graph_
        groups = [{"params": graph.discriminator.parameters(), "lr": p.discriminator_lr}]
        if p.adaptor:
            groups.append({"params": graph.adaptor.parameters(), "lr": p.adaptor_lr})
        optimizer = torch.optim.Adam(groups, weight_decay=p.weight_decay)
        n = feats.shape[0]
        steps = p.epochs * -(-n // min(p.train_batch_size, n))
        graph.adaptor.train()
        graph.discriminator.train()
        losses = []
        for idx in step_batches(n, p.train_batch_size, steps, generator):
            batch = feats[idx].to(self.device)
            true = graph.adaptor(batch.permute(0, 2, 3, 1).reshape(-1, batch.shape[1]))
            noise = torch.randn(true.shape, generator=generator).to(true.device) * p.noise_std
            scores = graph.discriminator(torch.cat([true, true + noise]))
            loss = truncated_l1(scores[: len(true)], scores[len(true) :], p.margin)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        self.train_losses_ = losses

    # -- persistence: the base saves the extractor; the heads are added here --------------
    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        for name in HEAD_PREFIXES:
            state.update(module_arrays(getattr(self.graph_, name), name))
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        """The base rebuilds the extractor; the heads are rebuilt for its width and loaded strictly."""
        heads = tuple(f"{name}." for name in HEAD_PREFIXES)
        unknown = [k for k in state if not k.startswith(heads) and k != "layers_" and not k.startswith(f"{BACKBONE_PREFIX}.")]
        if unknown:
            raise DataError(f"{self.where}: saved state entry {unknown[0]!r} is not part of this detector's state")
        super().set_state({k: v for k, v in state.items() if not k.startswith(heads)})
        graph = self._graph(self.extractor_)
        for name in HEAD_PREFIXES:
            load_module_arrays(getattr(graph, name), state, name)
        self.graph_ = graph.eval()
