"""Gaussian MVG (Rippel et al., ICPR 2020): Gaussians of pooled pretrained features."""
