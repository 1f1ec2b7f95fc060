"""The EfficientAD teacher: distilled from a local pretrained backbone, stored as safetensors.

The paper distils its PDN teacher from WideResNet-101 features on ImageNet. Neither is
available offline here, so the teacher learns to predict the locally aware features
(PatchCore-style 3x3 averaging, upsampled and concatenated) of a backbone whose ImageNet
weights are a local file, on whatever images it is given: a folder of generic images via
``tools/distill_efficientad_teacher.py``, or the detector's own training images when no
teacher file is passed. Targets are standardised per channel so every channel weighs the
same in the loss. A teacher file records how it was made and is checked against the
detector's parameters when loaded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from omniad.errors import ConfigError, DataError
from omniad_vision.detectors.efficientad.networks import PDN, pdn_output_size
from omniad_vision.features import patch_embedding
from omniad_vision.preprocess import normalize

FORMAT = "omniad.efficientad.teacher/1"
MAX_CHANNELS = 384  # the paper's teacher width

Draw = Callable[[int], torch.Tensor]  # n -> (n, 3, H, W) images in [0, 1]


class DistillationTarget(nn.Module):
    """Backbone features on the PDN's output grid, pooled to ``out_channels`` and standardised."""

    def __init__(self, extractor: nn.Module, model_size: str, padding: bool, out_channels: int) -> None:
        super().__init__()
        self.extractor = extractor
        self.model_size = model_size
        self.padding = padding
        self.out_channels = out_channels
        self.register_buffer("mean", torch.zeros(1, out_channels, 1, 1))
        self.register_buffer("std", torch.ones(1, out_channels, 1, 1))

    def raw(self, x: torch.Tensor) -> torch.Tensor:
        grid = pdn_output_size(self.model_size, self.padding, (x.shape[-2], x.shape[-1]))
        f = F.interpolate(patch_embedding(self.extractor(x), 3), size=grid, mode="bilinear", align_corners=False)
        if f.shape[1] != self.out_channels:  # PatchCore's channel reduction: average neighbouring channels
            b, c, h, w = f.shape
            f = F.adaptive_avg_pool1d(f.permute(0, 2, 3, 1).reshape(-1, 1, c), self.out_channels)
            f = f.reshape(b, h, w, self.out_channels).permute(0, 3, 1, 2)
        return f

    def fit_stats(self, batches: list[torch.Tensor]) -> None:
        feats = torch.cat([self.raw(x).transpose(0, 1).flatten(1) for x in batches], dim=1)
        self.mean.copy_(feats.mean(dim=1).view(1, -1, 1, 1))
        self.std.copy_(feats.std(dim=1).clamp_min(1e-6).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.raw(x) - self.mean) / self.std


def distil_teacher(
    draw: Draw,
    *,
    model_size: str,
    out_channels: int | None,
    padding: bool,
    size: tuple[int, int],
    backbone: str,
    backbone_weights: str,
    layers: tuple[str, ...] | None,
    mean: tuple[float, float, float],
    std: tuple[float, float, float],
    steps: int,
    batch_size: int,
    lr: float,
    device: str,
    where: str,
    log: Callable[[int, float], None] | None = None,
) -> tuple[PDN, dict[str, Any]]:
    """Train a PDN to predict standardised backbone features of the images ``draw`` yields.

    ``layers=None``: the backbone's deepest levels at strides 8 and 16 (``DISTIL_STRIDES``).
    """
    from omniad_vision.backbones import create_feature_extractor
    from omniad_vision.detectors.efficientad.params import DISTIL_STRIDES

    extractor = create_feature_extractor(backbone, None if layers is None else list(layers), weights=backbone_weights,
                                         device=device, where=where, default_strides=DISTIL_STRIDES)
    layers = tuple(extractor.layer_names)
    source_channels = sum(extractor.channels)
    channels = out_channels or min(source_channels, MAX_CHANNELS)
    if channels > source_channels:
        raise ConfigError(
            f"{where}: out_channels={channels} exceeds the {source_channels} channels of {backbone} "
            f"layers {list(layers)}; lower out_channels or add deeper backbone_layers"
        )
    target = DistillationTarget(extractor, model_size, padding, channels).to(device)
    with torch.no_grad():
        target.fit_stats([normalize(draw(batch_size).to(device), mean, std) for _ in range(4)])
    pdn = PDN(model_size, channels, padding).to(device)
    optimizer = torch.optim.Adam(pdn.parameters(), lr=lr, weight_decay=1e-5)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps, eta_min=lr * 0.05)
    loss_value = float("nan")
    for step in range(steps):
        x = normalize(draw(batch_size).to(device), mean, std)
        with torch.no_grad():
            t = target(x)
        loss = F.mse_loss(pdn(x), t)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        loss_value = float(loss.detach())
        if log is not None:
            log(step, loss_value)
    info = {
        "format": FORMAT,
        "model_size": model_size,
        "out_channels": channels,
        "padding": padding,
        "image_size": list(size),
        "backbone": backbone,
        "backbone_weights": str(backbone_weights),
        "layers": list(layers),
        "mean": list(mean),
        "std": list(std),
        "steps": steps,
        "batch_size": batch_size,
        "final_loss": loss_value,
    }
    return pdn.eval().requires_grad_(False), info


def save_teacher(path: str | Path, pdn: PDN, info: dict[str, Any]) -> Path:
    from safetensors.torch import save_file

    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in pdn.state_dict().items()}
    save_file(state, str(path), metadata={"omniad": json.dumps(info)})
    return path


def load_teacher(
    path: Path,
    *,
    model_size: str,
    padding: bool,
    out_channels: int | None,
    mean: tuple[float, float, float],
    std: tuple[float, float, float],
    where: str,
) -> PDN:
    """A teacher file made by ``save_teacher``, checked against the detector's parameters."""
    from safetensors import safe_open

    path = Path(path).expanduser()
    hint = "write one with tools/distill_efficientad_teacher.py"
    if not path.is_file():
        raise DataError(f"{where}: teacher_weights {path} does not exist; {hint}")
    try:
        with safe_open(str(path), framework="pt") as f:
            info = json.loads((f.metadata() or {}).get("omniad", "{}"))
            state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open has no __iter__)
    except Exception as exc:
        raise DataError(f"{where}: teacher_weights {path} is not a readable safetensors file ({type(exc).__name__}); {hint}") from None
    if info.get("format") != FORMAT:
        raise DataError(f"{where}: {path} is not an EfficientAD teacher file (no {FORMAT!r} metadata); {hint}")
    checks = [("model_size", model_size), ("padding", padding)]
    if out_channels is not None:
        checks.append(("out_channels", out_channels))
    for key, wanted in checks:
        if info.get(key) != wanted:
            raise ConfigError(
                f"{where}: teacher {path} has {key}={info.get(key)!r} but the detector asks for {key}={wanted!r}; "
                f"set {key}={info.get(key)!r} or distil a matching teacher"
            )
    for key, wanted in (("mean", mean), ("std", std)):
        got = info.get(key)
        if got is None or len(got) != 3 or any(abs(a - b) > 1e-4 for a, b in zip(got, wanted, strict=True)):
            raise ConfigError(
                f"{where}: teacher {path} was distilled with {key}={got} but the detector normalises with "
                f"{key}={list(wanted)}; set {key}={tuple(got) if got else '...'} to match the teacher"
            )
    pdn = PDN(model_size, int(info["out_channels"]), padding)
    try:
        pdn.load_state_dict(state, strict=True)
    except RuntimeError:
        raise DataError(f"{where}: {path} does not hold a {model_size} PDN with the recorded channels; {hint}") from None
    return pdn.eval().requires_grad_(False)
