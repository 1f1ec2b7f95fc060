"""AnomalyDINO (Damm et al., WACV 2025): few-shot nearest-neighbour search over DINOv2 patch tokens."""
