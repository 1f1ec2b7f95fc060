"""metrics of omniad-vision."""
