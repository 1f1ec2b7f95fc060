"""omniad-text: text anomaly detection on language-model embeddings, fast and cached.

Importing this package is cheap (no torch, no transformers): embeddings are computed by
``omniad_text.embeddings`` only when a detector is fitted. ``embed_texts`` is exported here
lazily because other packages (omniad-logs' semantic event vectors) look for it by name.
"""

from __future__ import annotations

from typing import Any

from omniad_text.version import __version__

__all__ = ["__version__", "embed_texts"]


def __getattr__(name: str) -> Any:
    if name == "embed_texts":
        from omniad_text.embeddings import embed_texts

        return embed_texts
    raise AttributeError(f"module 'omniad_text' has no attribute {name!r}")
