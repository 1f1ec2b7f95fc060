"""Feature levels of known timm backbones, without importing torch or timm.

Parameter models are imported by discovery (``omniad list``, ``omniad validate``), which must
stay light, yet a detector's ``layers`` only make sense for its ``backbone``: ResNet layer
names on a MobileNet validated fine and then failed every job at fit. This static table
lets parameter validation check explicit layers for the backbones it knows, and gives
every backbone the same default: ``layers=None`` means the deepest feature level at each of
the detector's strides (ResNets: ``layer2``/``layer3`` at strides 8/16, MobileNet/EfficientNet:
``blocks.2``/``blocks.4``). Backbones missing from the table are checked at fit, against timm's
own ``feature_info`` (``backbones.extractor``), by the same rule.

The table was read from timm 1.0 (``model.feature_info``: module name and reduction per
level); ``tests/test_vision_feature_levels.py`` checks a model of every family against timm.
"""

from __future__ import annotations

from collections.abc import Sequence

#: one backbone family: its feature levels, shallow to deep, as (timm module name, stride)
Levels = tuple[tuple[str, int], ...]

FAMILIES: dict[str, Levels] = {
    "resnet": (("act1", 2), ("layer1", 4), ("layer2", 8), ("layer3", 16), ("layer4", 32)),
    "efficientnet": (("blocks.0", 2), ("blocks.1", 4), ("blocks.2", 8), ("blocks.4", 16), ("blocks.6", 32)),
    "efficientnet_e": (("blocks.0", 2), ("blocks.1", 4), ("blocks.2", 8), ("blocks.4", 16), ("blocks.5", 32)),
    "mobilenetv3_small": (("bn1", 2), ("blocks.0", 4), ("blocks.1", 8), ("blocks.3", 16), ("blocks.5", 32)),
    "convnext": (("stages.0", 4), ("stages.1", 8), ("stages.2", 16), ("stages.3", 32)),
    "resnetv2": (("stem.conv", 2), ("stages.0", 4), ("stages.1", 8), ("stages.2", 16), ("stages.3", 32)),
    "resnetv2_deep_stem": (("stem.conv3", 2), ("stages.0", 4), ("stages.1", 8), ("stages.2", 16), ("stages.3", 32)),
}

_NAMES: dict[str, str] = {
    "resnet": "resnet10t resnet14t resnet18 resnet18d resnet26 resnet26d resnet26t resnet34 resnet34d resnet50 "
    "resnet50_gn resnet50c resnet50d resnet50s resnet50t resnet101 resnet101c resnet101d resnet101s resnet152 "
    "resnet152c resnet152d resnet152s resnet200 resnet200d resnetaa34d resnetaa50 resnetaa50d resnetaa101d "
    "resnetblur18 resnetblur50 resnetblur50d resnetblur101d resnetrs50 resnetrs101 resnetrs152 resnetrs200 "
    "resnetrs270 resnetrs350 resnetrs420 resnext50_32x4d resnext50d_32x4d resnext101_32x4d resnext101_32x8d "
    "resnext101_32x16d resnext101_32x32d resnext101_64x4d wide_resnet50_2 wide_resnet101_2",
    "efficientnet": "efficientnet_b0 efficientnet_b0_g16_evos efficientnet_b0_g8_gn efficientnet_b0_gn "
    "efficientnet_b1 efficientnet_b1_pruned efficientnet_b2 efficientnet_b2_pruned efficientnet_b3 "
    "efficientnet_b3_g8_gn efficientnet_b3_gn efficientnet_b3_pruned efficientnet_b4 efficientnet_b5 "
    "efficientnet_b6 efficientnet_b7 efficientnet_b8 efficientnet_blur_b0 efficientnet_cc_b0_4e "
    "efficientnet_cc_b0_8e efficientnet_cc_b1_8e efficientnet_l2 efficientnet_lite0 efficientnet_lite1 "
    "efficientnet_lite2 efficientnet_lite3 efficientnet_lite4 efficientnetv2_l efficientnetv2_m efficientnetv2_xl "
    "mobilenetv2_035 mobilenetv2_050 mobilenetv2_075 mobilenetv2_100 mobilenetv2_110d mobilenetv2_120d "
    "mobilenetv2_140 mobilenetv3_large_075 mobilenetv3_large_100 mobilenetv3_large_150d mobilenetv3_rw "
    "tf_efficientnet_b0 tf_efficientnet_b1 tf_efficientnet_b2 tf_efficientnet_b3 tf_efficientnet_b4 "
    "tf_efficientnet_b5 tf_efficientnet_b6 tf_efficientnet_b7 tf_efficientnet_b8 tf_efficientnet_cc_b0_4e "
    "tf_efficientnet_cc_b0_8e tf_efficientnet_cc_b1_8e tf_efficientnet_l2 tf_efficientnet_lite0 "
    "tf_efficientnet_lite1 tf_efficientnet_lite2 tf_efficientnet_lite3 tf_efficientnet_lite4 tf_efficientnetv2_l "
    "tf_efficientnetv2_m tf_efficientnetv2_xl tf_mobilenetv3_large_075 tf_mobilenetv3_large_100 "
    "tf_mobilenetv3_large_minimal_100",
    "efficientnet_e": "efficientnet_el efficientnet_el_pruned efficientnet_em efficientnet_es efficientnet_es_pruned "
    "efficientnetv2_rw_m efficientnetv2_rw_s efficientnetv2_rw_t efficientnetv2_s tf_efficientnet_el "
    "tf_efficientnet_em tf_efficientnet_es tf_efficientnetv2_b0 tf_efficientnetv2_b1 tf_efficientnetv2_b2 "
    "tf_efficientnetv2_b3 tf_efficientnetv2_s",
    "mobilenetv3_small": "mobilenetv3_small_050 mobilenetv3_small_075 mobilenetv3_small_100 tf_mobilenetv3_small_075 "
    "tf_mobilenetv3_small_100 tf_mobilenetv3_small_minimal_100",
    "convnext": "convnext_atto convnext_atto_ols convnext_atto_rms convnext_base convnext_femto convnext_femto_ols "
    "convnext_large convnext_large_mlp convnext_nano convnext_nano_ols convnext_pico convnext_pico_ols "
    "convnext_small convnext_tiny convnext_tiny_hnf convnext_xlarge convnext_xxlarge convnext_zepto_rms "
    "convnext_zepto_rms_ols convnextv2_atto convnextv2_base convnextv2_femto convnextv2_huge convnextv2_large "
    "convnextv2_nano convnextv2_pico convnextv2_small convnextv2_tiny",
    "resnetv2": "resnetv2_18 resnetv2_34 resnetv2_50 resnetv2_101 resnetv2_152 resnetv2_50x1_bit resnetv2_50x3_bit "
    "resnetv2_101x1_bit resnetv2_101x3_bit resnetv2_152x2_bit resnetv2_152x4_bit",
    "resnetv2_deep_stem": "resnetv2_18d resnetv2_34d resnetv2_50d resnetv2_50d_evos resnetv2_50d_frn resnetv2_50d_gn "
    "resnetv2_50t resnetv2_101d resnetv2_152d",
}

#: timm model name -> family
KNOWN: dict[str, str] = {name: family for family, names in _NAMES.items() for name in names.split()}


def known_levels(backbone: str) -> Levels | None:
    """The feature levels of a backbone in the table (a ``name.pretrained_tag`` too), else None."""
    family = KNOWN.get(backbone) or KNOWN.get(backbone.split(".", 1)[0])
    return None if family is None else FAMILIES[family]


def default_layers(levels: Sequence[tuple[str, int]], strides: Sequence[int] | None) -> tuple[str, ...]:
    """The deepest level at each stride in ``strides`` (None = every level), shallow to deep.

    Empty when the backbone has none of those strides (a ViT has stride 16 only, so (8, 16)
    gives its last block).
    """
    if strides is None:
        return tuple(name for name, _ in levels)
    picked = []
    for stride in sorted(strides):
        at = [name for name, reduction in levels if reduction == stride]
        if at and at[-1] not in picked:
            picked.append(at[-1])
    return tuple(picked)


def describe_default(strides: Sequence[int] | None) -> str:
    """How ``layers=None`` resolves, in words, for parameter descriptions and messages."""
    if strides is None:
        return "every feature level of the backbone"
    return ("the backbone's deepest feature level at strides " + "/".join(str(s) for s in sorted(strides))
            + " (ResNets: " + ", ".join(default_layers(FAMILIES["resnet"], strides))
            + "; MobileNetV2/EfficientNet: " + ", ".join(default_layers(FAMILIES["efficientnet"], strides)) + ")")


def layer_problem(backbone: str, layers: Sequence[str], levels: Sequence[tuple[str, int]]) -> str | None:
    """Why ``layers`` do not fit a backbone with ``levels`` (None = they fit): the message names both."""
    names = [name for name, _ in levels]
    has = f"its feature layers are {', '.join(names)} (or indices 0..{len(names) - 1}), shallow to deep"
    indices = []
    for layer in layers:
        if isinstance(layer, int) or (isinstance(layer, str) and layer.isdigit()):
            index = int(layer)
            if not 0 <= index < len(names):
                return f"backbone {backbone!r} has no feature layer index {index}; {has}"
        elif layer in names:
            index = names.index(layer)
        else:
            return f"backbone {backbone!r} has no feature layer {layer!r}; {has}; omit layers for its default"
        if index in indices:
            return f"layer {layer!r} is listed twice for backbone {backbone!r}; {has}"
        indices.append(index)
    if indices != sorted(indices):
        return f"list the layers of backbone {backbone!r} from shallow to deep, got {list(layers)}; {has}"
    return None


def check_layers(backbone: str, layers: Sequence[str] | None) -> None:
    """Raise ``ValueError`` (for a pydantic validator) when a known backbone lacks one of ``layers``.

    Unknown backbones pass: the extractor checks them at fit against timm.
    """
    if layers is None:
        return
    if not layers:
        raise ValueError("give at least one feature layer, or omit layers (None) for the backbone's default")
    levels = known_levels(backbone)
    if levels is None:
        return
    problem = layer_problem(backbone, layers, levels)
    if problem:
        raise ValueError(problem)
