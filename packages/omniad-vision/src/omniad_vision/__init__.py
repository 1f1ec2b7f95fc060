"""omniad-vision: industrial image anomaly detection and localization.

Importing this package is cheap; detectors import torch only when used.
"""

from omniad_vision.version import __version__

__all__ = ["__version__"]
