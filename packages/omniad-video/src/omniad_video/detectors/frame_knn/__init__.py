"""One-class frame detectors: frame features + kNN distance / Gaussian Mahalanobis distance."""
