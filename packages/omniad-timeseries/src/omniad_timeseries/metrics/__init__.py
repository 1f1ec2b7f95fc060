"""metrics of omniad-timeseries."""
