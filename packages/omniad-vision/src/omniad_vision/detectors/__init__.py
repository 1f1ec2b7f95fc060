"""detectors of omniad-vision."""
