"""NAGL-style normal-abnormal guided generalist anomaly detection (after Wang et al., 2025)."""
