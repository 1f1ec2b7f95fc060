"""Whether timm's model hub can be reached, decided once per process, and its cache offline.

Without a network, huggingface_hub retries every download five times with back-off; a grid
asks once per subset, so a default ``vision.patchcore`` run spent minutes in retries before
its clear "no ImageNet weights" error. The hub is therefore given up on up front: when
``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE`` say so, or when one short connection attempt to
the hub host fails. The probe runs at most once per process (per host); later subsets get
the answer at once. Weights already in the hub cache still load offline.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from urllib.parse import urlparse

OFFLINE_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
PROBE_TIMEOUT_S = 2.0
DEFAULT_ENDPOINT = "https://huggingface.co"
_TRUE = {"1", "true", "yes", "on"}
_reachable: dict[tuple[str, int], bool] = {}


def hub_address() -> tuple[str, int]:
    """Host and port of the hub (``HF_ENDPOINT`` when set, e.g. a mirror)."""
    url = urlparse(os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT)
    return url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)


def probe(host: str, port: int, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """One TCP connection attempt, DNS included, bounded by ``timeout`` seconds."""
    result: list[bool] = []

    def connect() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=connect, name="omniad-hub-probe", daemon=True)
    thread.start()
    thread.join(timeout + 0.5)  # a resolver that hangs counts as unreachable
    return bool(result and result[0])


def offline_reason() -> str | None:
    """Why the hub is not to be tried (an env setting, or the failed probe); None when it is reachable."""
    for name in OFFLINE_ENV:
        if os.environ.get(name, "").strip().lower() in _TRUE:
            return f"{name}={os.environ[name]}"
    address = hub_address()
    if address not in _reachable:
        _reachable[address] = probe(*address)
    if not _reachable[address]:
        return f"{address[0]}:{address[1]} not reachable within {PROBE_TIMEOUT_S:g} s"
    return None


def cached_hub_file(model_name: str) -> Path | None:
    """timm's weight file for ``model_name`` if an earlier download left it in the hub cache."""
    try:
        import timm
        from huggingface_hub import try_to_load_from_cache

        repo = timm.models.get_pretrained_cfg(model_name).hf_hub_id
    except Exception:  # no default pretrained tag, or no huggingface_hub: nothing cached to find
        return None
    if not repo:
        return None
    for filename in ("model.safetensors", "pytorch_model.bin"):
        hit = try_to_load_from_cache(repo, filename)
        if isinstance(hit, str) and Path(hit).is_file():
            return Path(hit)
    return None
