"""datasets of omniad-vision."""
