"""Key maps from other projects' checkpoint layouts to timm's module names.

ImageNet weights often come as torchvision state dicts or in the layout of the popular
``EfficientNet-PyTorch`` package (``_conv_stem``, ``_blocks.N``, ...). timm builds the same
networks with different module names, so a file is usable once its keys are renamed. Each
remapper returns ``{timm_key: file_key}`` or ``None`` when the file is not in its layout;
``weights.load_state`` then checks the result key by key and shape by shape, so a wrong map
can never load silently. ``tests/test_vision_backbones.py`` checks the MobileNetV2 map
numerically (same logits as torchvision's own model with the same file).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

Remapper = Callable[[set[str], Any], "dict[str, str] | None"]

_BN_SUFFIXES = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def block_positions(model: Any) -> list[tuple[int, int]]:
    """``(stage, index)`` of every block of a timm EfficientNet-family model, in forward order."""
    return [(s, b) for s, stage in enumerate(model.blocks) for b in range(len(stage))]


def _bn(target: str, source: str) -> dict[str, str]:
    return {f"{target}.{s}": f"{source}.{s}" for s in _BN_SUFFIXES}


def _complete(mapping: dict[str, str], file_keys: set[str], model_keys: Iterable[str]) -> dict[str, str]:
    """Keep only entries whose source exists; the caller reports what is still missing."""
    wanted = set(model_keys)
    return {t: s for t, s in mapping.items() if s in file_keys and t in wanted}


def torchvision_mobilenet_v2(file_keys: set[str], model: Any) -> dict[str, str] | None:
    """torchvision ``mobilenet_v2()`` -> timm ``mobilenetv2_*``.

    torchvision numbers all blocks in one ``features`` Sequential: ``features.0`` is the stem
    (conv + BN), ``features.1..17`` the inverted-residual blocks (``conv.0`` = expand conv+BN,
    ``conv.1`` = depthwise conv+BN, ``conv.2``/``conv.3`` = projection conv/BN; the first block
    has no expansion, so its depthwise pair comes first), ``features.18`` the 1x1 head conv+BN.
    """
    if "features.0.0.weight" not in file_keys or not hasattr(model, "blocks"):
        return None
    positions = block_positions(model)
    head = len(positions) + 1
    m: dict[str, str] = {"conv_stem.weight": "features.0.0.weight", **_bn("bn1", "features.0.1")}
    for flat, (s, b) in enumerate(positions, start=1):
        t, f = f"blocks.{s}.{b}", f"features.{flat}.conv"
        if f"{f}.0.0.weight" in file_keys and f"{f}.1.0.weight" in file_keys:  # expand, dw, project
            m.update({f"{t}.conv_pw.weight": f"{f}.0.0.weight", **_bn(f"{t}.bn1", f"{f}.0.1")})
            m.update({f"{t}.conv_dw.weight": f"{f}.1.0.weight", **_bn(f"{t}.bn2", f"{f}.1.1")})
            m.update({f"{t}.conv_pwl.weight": f"{f}.2.weight", **_bn(f"{t}.bn3", f"{f}.3")})
        else:  # depthwise-separable first block: dw, project
            m.update({f"{t}.conv_dw.weight": f"{f}.0.0.weight", **_bn(f"{t}.bn1", f"{f}.0.1")})
            m.update({f"{t}.conv_pw.weight": f"{f}.1.weight", **_bn(f"{t}.bn2", f"{f}.2")})
    m.update({"conv_head.weight": f"features.{head}.0.weight", **_bn("bn2", f"features.{head}.1")})
    m.update({"classifier.weight": "classifier.1.weight", "classifier.bias": "classifier.1.bias"})
    return _complete(m, file_keys, model.state_dict().keys())


def efficientnet_pytorch(file_keys: set[str], model: Any) -> dict[str, str] | None:
    """``EfficientNet-PyTorch`` layout (``_conv_stem``, ``_bn0``, ``_blocks.N._expand_conv`` ...) -> timm.

    Blocks are numbered flat (``_blocks.N``); inside a block ``_bn0``/``_bn1``/``_bn2`` follow
    the expand/depthwise/project convs (blocks without expansion start at ``_bn1``), and the
    optional squeeze-excitation convs ``_se_reduce``/``_se_expand`` map to timm's ``se``.
    """
    if "_conv_stem.weight" not in file_keys or not hasattr(model, "blocks"):
        return None
    m: dict[str, str] = {"conv_stem.weight": "_conv_stem.weight", **_bn("bn1", "_bn0")}
    for flat, (s, b) in enumerate(block_positions(model)):
        t, f = f"blocks.{s}.{b}", f"_blocks.{flat}"
        se = {
            f"{t}.se.conv_reduce.weight": f"{f}._se_reduce.weight",
            f"{t}.se.conv_reduce.bias": f"{f}._se_reduce.bias",
            f"{t}.se.conv_expand.weight": f"{f}._se_expand.weight",
            f"{t}.se.conv_expand.bias": f"{f}._se_expand.bias",
        }
        m.update(se)
        if f"{f}._expand_conv.weight" in file_keys:
            m.update({f"{t}.conv_pw.weight": f"{f}._expand_conv.weight", **_bn(f"{t}.bn1", f"{f}._bn0")})
            m.update({f"{t}.conv_dw.weight": f"{f}._depthwise_conv.weight", **_bn(f"{t}.bn2", f"{f}._bn1")})
            m.update({f"{t}.conv_pwl.weight": f"{f}._project_conv.weight", **_bn(f"{t}.bn3", f"{f}._bn2")})
        else:
            m.update({f"{t}.conv_dw.weight": f"{f}._depthwise_conv.weight", **_bn(f"{t}.bn1", f"{f}._bn1")})
            m.update({f"{t}.conv_pw.weight": f"{f}._project_conv.weight", **_bn(f"{t}.bn2", f"{f}._bn2")})
    m.update({"conv_head.weight": "_conv_head.weight", **_bn("bn2", "_bn1")})
    m.update({"classifier.weight": "_fc.weight", "classifier.bias": "_fc.bias"})
    return _complete(m, file_keys, model.state_dict().keys())


def strip_prefixes(keys: Iterable[str]) -> dict[str, str]:
    """``{clean_key: file_key}`` without wrapper prefixes added by DataParallel or Lightning."""
    keys = list(keys)
    for prefix in ("module.", "model.", "backbone.", "encoder."):
        if keys and all(k.startswith(prefix) for k in keys):
            return {k[len(prefix):]: k for k in keys}
    return {k: k for k in keys}


#: which remappers to try for which timm architectures (regex on the timm model name).
REMAPPERS: list[tuple[re.Pattern[str], Remapper]] = [
    (re.compile(r"^mobilenetv2_"), torchvision_mobilenet_v2),
    (re.compile(r"^(efficientnet|tf_efficientnet)"), efficientnet_pytorch),
]


def remappers_for(model_name: str) -> list[Remapper]:
    return [fn for pattern, fn in REMAPPERS if pattern.search(model_name)]
