"""datasets of omniad-timeseries."""
