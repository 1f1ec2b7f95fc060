"""Dinomaly-style reconstruction (Guo et al., CVPR 2025) on a local DINOv2 encoder.

Importing the package stays light; the torch code lives in ``layers`` and ``model``.
"""
