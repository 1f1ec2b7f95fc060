"""SimpleNet detector: a discriminator learns where adapted normal features end.

Pretrained features are biased towards ImageNet; a linear adaptor moves them towards the
target domain. Anomalous features are simulated by adding Gaussian noise to adapted normal
ones, and a small MLP discriminator is trained with the truncated L1 loss to score normal
features above ``margin`` and noisy ones below ``-margin``. Because the backbone is frozen,
its features are computed once; training touches only the adaptor and the discriminator.
At test time the negated discriminator output of every patch is the anomaly map.

Deviations from the paper, all for a CPU box with local weights: any timm backbone (the
paper uses WideResNet-50 layers 2+3), features are concatenated instead of pooled to
1,536 dimensions, and the model after the last epoch is kept (the reference code keeps the
epoch with the best *test* score, which needs test labels).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from omniad.detector import Detector
from omniad.scores import Scores
from omniad.torchstate import load_module_arrays, module_arrays
from omniad_vision.detectors.extra_torch import (
    aggregate_local,
    input_size,
    load_unit_images,
    normalize,
    score_images,
    step_batches,
    torch_generator,
)
from omniad_vision.detectors.simplenet.params import Params
from omniad_vision.preprocess import gaussian_blur


class SimpleNetNet(nn.Module):
    """Frozen backbone, linear adaptor and discriminator."""

    def __init__(self, params: Params, *, pretrained: bool, device: str, where: str) -> None:
        super().__init__()
        from omniad_vision.backbones import create_feature_extractor

        weights = params.weights if pretrained else None
        self.sigma = params.sigma
        self.patch_size = params.patch_size
        self.extractor = create_feature_extractor(params.backbone, params.layers, weights=weights, where=where)
        dim = sum(self.extractor.channels)
        self.adaptor = nn.Linear(dim, dim) if params.adaptor else nn.Identity()
        self.discriminator = nn.Sequential(
            nn.Linear(dim, params.hidden), nn.BatchNorm1d(params.hidden), nn.LeakyReLU(0.2), nn.Linear(params.hidden, 1)
        )
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_normal_(module.weight)
        self.to(device)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) locally aware features on the grid of the first layer."""
        with torch.no_grad():
            maps = self.extractor(x)
            return aggregate_local(maps, tuple(maps[0].shape[-2:]), self.patch_size)

    def patch_scores(self, feats: torch.Tensor) -> torch.Tensor:
        b, c, h, w = feats.shape
        flat = feats.permute(0, 2, 3, 1).reshape(-1, c)
        return -self.discriminator(self.adaptor(flat)).reshape(b, h, w)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores = self.patch_scores(self.features(x))
        maps = F.interpolate(scores[:, None], size=x.shape[-2:], mode="bilinear", align_corners=False)
        return gaussian_blur(maps, self.sigma)[:, 0], scores.flatten(1).amax(dim=1)


def truncated_l1(real: torch.Tensor, fake: torch.Tensor, margin: float) -> torch.Tensor:
    """max(0, th - D(real)) + max(0, th + D(fake)), averaged over patches."""
    return F.relu(margin - real).mean() + F.relu(margin + fake).mean()


class SimpleNet(Detector):
    """SimpleNet (Liu et al., CVPR 2023) on a local timm backbone."""

    Params = Params

    def _fit(self, samples: Sequence[Any]) -> None:
        p: Params = self.params
        where = f"{self.where}.fit"
        self.net = SimpleNetNet(p, pretrained=p.weights is not None, device=self.device, where=where)
        generator = torch_generator(self.seed)
        images = load_unit_images(samples, input_size(p), where)
        feats = torch.cat([
            self.net.features(normalize(images[i : i + p.batch_size].to(self.device), p.mean, p.std)).cpu()
            for i in range(0, images.shape[0], p.batch_size)
        ])
        self._train(feats, generator)

    def _train(self, feats: torch.Tensor, generator: torch.Generator) -> None:
        p: Params = self.params
        net = self.net
        groups = [{"params": net.discriminator.parameters(), "lr": p.discriminator_lr}]
        if p.adaptor:
            groups.append({"params": net.adaptor.parameters(), "lr": p.adaptor_lr})
        optimizer = torch.optim.Adam(groups, weight_decay=p.weight_decay)
        n = feats.shape[0]
        steps = p.epochs * -(-n // min(p.train_batch_size, n))
        net.adaptor.train()
        net.discriminator.train()
        losses = []
        for idx in step_batches(n, p.train_batch_size, steps, generator):
            batch = feats[idx].to(self.device)
            flat = net.adaptor(batch.permute(0, 2, 3, 1).reshape(-1, batch.shape[1]))
            noise = torch.randn(flat.shape, generator=generator).to(flat.device) * p.noise_std
            scores = net.discriminator(torch.cat([flat, flat + noise]))
            real, fake = scores[: flat.shape[0]], scores[flat.shape[0] :]
            loss = truncated_l1(real, fake, p.margin)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        net.eval()
        self.train_losses_ = losses

    def _score(self, samples: Sequence[Any]) -> Scores:
        self.net.to(self.device).eval()
        return score_images(samples, self.params, self.device, f"{self.where}.score", self.net)

    # -- persistence: the backbone is saved too, so loading needs no weight file -------
    def get_state(self) -> dict[str, Any]:
        return module_arrays(self.net, "net")

    def set_state(self, state: dict[str, Any]) -> None:
        self.net = SimpleNetNet(self.params, pretrained=False, device="cpu", where=f"{self.where}.load")
        load_module_arrays(self.net, state, "net")
        self.net.eval()
