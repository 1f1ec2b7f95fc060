"""PyOD's classic detectors as omniad detectors for feature vectors and embeddings.

Importing the package imports neither PyOD nor scikit-learn; they load when a detector
is fitted, so ``omniad list`` stays fast.
"""

__version__ = "0.1.0"
