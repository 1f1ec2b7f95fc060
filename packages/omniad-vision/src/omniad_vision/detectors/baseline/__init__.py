"""Baselines every vision detector must beat."""
