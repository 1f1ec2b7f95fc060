"""EfficientAD (Batzner et al., WACV 2024): student-teacher PDNs plus an autoencoder.

Importing the package stays light; the torch code lives in ``model``, ``networks`` and
``teacher``.
"""
