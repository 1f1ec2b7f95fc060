"""Corrective offsets: learn, per point, the displacement that restores the normal surface."""
