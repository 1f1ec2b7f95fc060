"""Neural (torch) time-series detectors."""
