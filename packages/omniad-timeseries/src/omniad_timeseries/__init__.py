"""omniad-timeseries: detectors, datasets and metrics for time-series anomaly detection.

Importing this package is cheap; detectors import torch only when used.
"""

from omniad_timeseries.version import __version__

__all__ = ["__version__"]
