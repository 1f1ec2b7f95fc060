"""Forward passes: torch (fp32/bf16/fp16, optional dynamic int8) and ONNX Runtime (fp32/int8).

Every backend takes right-padded numpy batches and returns the token states as a torch
tensor, so pooling is one piece of code for all of them and their vectors stay comparable.
Loaded backends are kept per process (a grid's jobs share one model load).
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import tempfile
import uuid
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from omniad.errors import ConfigError, MissingDependencyError
from omniad_text.embeddings.models import ModelInfo, load_weights

_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
_LOADED: OrderedDict[tuple[Any, ...], Backend] = OrderedDict()
_KEEP = 2
#: bump when the exported graph or its quantisation changes, so old exports are not reused
_EXPORT_VERSION = "v2"


class Backend:
    def __init__(self, tokenizer: Any, input_names: tuple[str, ...]) -> None:
        self.tokenizer = tokenizer
        self.input_names = input_names

    def forward(self, batch: dict[str, np.ndarray]) -> torch.Tensor:
        raise NotImplementedError


def _accepted_inputs(model: Any) -> tuple[str, ...]:
    params = inspect.signature(model.forward).parameters
    return tuple(n for n in ("input_ids", "attention_mask", "token_type_ids") if n in params)


class TorchBackend(Backend):
    def __init__(self, model: Any, tokenizer: Any, device: str, dtype: str, int8: bool) -> None:
        super().__init__(tokenizer, _accepted_inputs(model))
        if int8:
            from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch.ao deprecation notice
                # per-channel weight scales: per-tensor ones cost MiniLM ~0.07 cosine (0.88 min vs fp32)
                model = quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)
        self.model = model.to(device=device, dtype=_DTYPES[dtype]) if not int8 else model
        self.device = device

    def forward(self, batch: dict[str, np.ndarray]) -> torch.Tensor:
        inputs = {k: torch.from_numpy(batch[k]).to(self.device) for k in self.input_names if k in batch}
        with torch.inference_mode():
            return self.model(**inputs).last_hidden_state


class _StatesOnly(torch.nn.Module):
    def __init__(self, model: Any, names: tuple[str, ...]) -> None:
        super().__init__()
        self.model = model
        self.names = names

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        return self.model(**dict(zip(self.names, args, strict=True))).last_hidden_state


def _export_onnx(model: Any, names: tuple[str, ...], path: Path) -> None:
    # the eager attention graph is the one ONNX Runtime's fusions recognise; SDPA exports as
    # generic masking ops (measured: 6.6 vs 5.5 texts/s for MiniLM on 2 busy cores)
    if hasattr(model, "set_attn_implementation"):
        with contextlib.suppress(Exception):
            model.set_attn_implementation("eager")
    example = tuple(torch.ones(2, 8, dtype=torch.long) for _ in names)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"states": {0: "batch", 1: "tokens"}}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about Python-valued shapes
            torch.onnx.export(
                _StatesOnly(model, names).eval(), example, str(tmp), dynamo=False, opset_version=17,
                input_names=list(names), output_names=["states"], dynamic_axes=axes,
            )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _quantize_onnx(source: Path, path: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp.onnx")
    level = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # the quantiser logs advice on the root logger
    try:
        # per-channel, reduced-range weights: without them AVX2 CPUs (no VNNI) saturate and
        # MiniLM's cosine to fp32 drops to 0.92 (0.98 with them)
        quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)
        os.replace(tmp, path)
    finally:
        logging.getLogger().setLevel(level)
        tmp.unlink(missing_ok=True)


class OnnxBackend(Backend):
    def __init__(self, info: ModelInfo, model: Any, tokenizer: Any, cache_dir: Path, int8: bool,
                 threads: int | None) -> None:
        super().__init__(tokenizer, _accepted_inputs(model))
        try:
            import onnxruntime as ort
        except ImportError:
            raise MissingDependencyError(
                "embedding backend 'onnx' needs onnxruntime and onnx; pip install 'omniad-text[onnx]' or use backend='torch'"
            ) from None
        folder = cache_dir / "onnx"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f".probe-{uuid.uuid4().hex[:8]}"
            probe.touch()
            probe.unlink()
        except OSError:
            folder = Path(tempfile.mkdtemp(prefix="omniad-text-onnx-"))
            warnings.warn(f"text embeddings: {cache_dir} is not writable; the ONNX export goes to {folder} "
                          "and is redone next run", stacklevel=3)
        path = folder / f"{info.identity[:32]}-{_EXPORT_VERSION}-fp32.onnx"
        if not path.is_file():
            _export_onnx(model, self.input_names, path)
        if int8:
            quantized = folder / f"{info.identity[:32]}-{_EXPORT_VERSION}-int8.onnx"
            if not quantized.is_file():
                _quantize_onnx(path, quantized)
            path = quantized
        options = ort.SessionOptions()
        # spinning threads waste a shared CPU: measured 6.6 vs 5.5 texts/s without spinning
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.path = path

    def forward(self, batch: dict[str, np.ndarray]) -> torch.Tensor:
        feeds = {k: batch[k].astype(np.int64, copy=False) for k in self.input_names if k in batch}
        return torch.from_numpy(self.session.run(["states"], feeds)[0])


def get_backend(info: ModelInfo, backend: str, dtype: str, device: str, cache_dir: Path,
                threads: int | None) -> Backend:
    if backend != "torch" and (dtype != "fp32" or device != "cpu"):
        raise ConfigError(f"embedding backend {backend!r} runs in fp32 on CPU only (got dtype={dtype!r}, "
                          f"device={device!r}); use backend='torch' for {dtype} or CUDA")
    if dtype == "fp16" and device == "cpu":
        raise ConfigError("embedding dtype 'fp16' needs CUDA; use dtype='fp32' or 'bf16' on CPU")
    key = (info.identity, backend, dtype, device, str(cache_dir) if backend.startswith("onnx") else "", threads)
    if key in _LOADED:
        _LOADED.move_to_end(key)
        return _LOADED[key]
    model, tokenizer = load_weights(info)
    if backend.startswith("onnx"):
        loaded: Backend = OnnxBackend(info, model, tokenizer, cache_dir, backend == "onnx-int8", threads)
    else:
        loaded = TorchBackend(model, tokenizer, device, dtype, backend == "torch-int8")
    _LOADED[key] = loaded
    while len(_LOADED) > _KEEP:
        _LOADED.popitem(last=False)
    return loaded
