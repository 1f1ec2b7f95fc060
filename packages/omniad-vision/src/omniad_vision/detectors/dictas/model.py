"""DictAS-style detector: a query patch is rebuilt from a dictionary of normal reference tokens; residual = anomaly.

Qu et al., "DictAS: A Framework for Class-Generalizable Few-Shot Anomaly Segmentation via
Dictionary Lookup", ICCV 2025 (arXiv 2508.13560). The dictionary holds the few normal shots' patch tokens (keys
and values); each query token looks up its entries with a sparse probability and is rebuilt as
their weighted sum; a normal patch is rebuilt well, an anomalous one (absent from the dictionary)
is not, so the cosine distance between a token and its rebuilt version is the anomaly map.

Simplified: the paper learns query / key / value generators (self-attention blocks on a frozen
CLIP ViT-L/14-336) and a query-discrimination regulariser (contrastive and text-alignment
constraints) by self-supervised training on other categories' normal images with synthesised
anomalies, which this machine does not have; here the backbone is the DINOv2-shaped ViT and the
projections are the identity on unit DINOv2-shaped tokens (no training at all), and the sparse
lookup is a softmax over the ``lookup_k`` most similar entries (zero elsewhere). With
``lookup_k=1`` it reduces to AnomalyDINO's nearest-neighbour distance; larger ``lookup_k``
lets a normal patch that falls between reference patches be rebuilt from several of them.
"""

from __future__ import annotations

from omniad_vision.detectors.anomalydino.model import ReferenceDetector
from omniad_vision.detectors.dictas.params import Params


class DictAS(ReferenceDetector):
    """DictAS (Qu et al., ICCV 2025), training-free: sparse top-k dictionary lookup of frozen ViT tokens."""

    Params = Params

    def lookup(self) -> tuple[int, float]:
        n = int(self.memory_bank_.shape[0])
        k = self._limit("lookup_k", self.params.lookup_k, n, f"the dictionary has only {n} entries")
        return k, self.params.temperature
