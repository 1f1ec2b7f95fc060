"""AnomalyNCD (Huang et al., CVPR 2025): group detected anomalies into novel classes."""
