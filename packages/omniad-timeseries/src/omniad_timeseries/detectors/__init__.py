"""detectors of omniad-timeseries."""
