"""ONNX export of fitted detectors (optional extra ``omniad-vision[onnx]``).

The exported graph starts at the normalised tensor at ``image_size``: resizing with
antialiasing has no portable ONNX form, so it stays with the caller (``preprocess.to_tensor``
does exactly what the detector does). The graph is the module the detector itself scores
with, traced with a plain matrix-product nearest-neighbour search.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import torch
from torch import nn

from omniad.errors import MissingDependencyError


def export_graph(module: nn.Module, path: str | Path, size: tuple[int, int], *, opset: int, where: str) -> Path:
    if importlib.util.find_spec("onnx") is None:
        raise MissingDependencyError(f"{where}: ONNX export needs the onnx package; pip install 'omniad-vision[onnx]'")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    device = next(module.buffers()).device
    example = torch.zeros(1, 3, *size, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shape-dependent Python values
        torch.onnx.export(
            module.eval(), (example,), str(path), dynamo=False, opset_version=opset,
            input_names=["image"], output_names=["score", "anomaly_map"],
            dynamic_axes={"image": {0: "batch"}, "score": {0: "batch"}, "anomaly_map": {0: "batch"}},
        )
    return path
