"""omniad-text: text anomaly detection on language-model embeddings, fast and cached.

Importing this package is cheap (no torch, no transformers): embeddings are computed by
``omniad_text.embeddings`` only when a detector is fitted.
"""

from omniad_text.version import __version__

__all__ = ["__version__"]
