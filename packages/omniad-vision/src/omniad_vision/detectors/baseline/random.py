"""Random scores and maps: the floor of every vision metric (0.5 AUROC in expectation).

Scores are a function of (seed, image bytes), so the same image always gets the same
score and map, which keeps the baseline reproducible and its saved copy identical.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from omniad.scores import Scores
from omniad.state import Int, declare
from omniad_vision.detectors.base import VisionDetector
from omniad_vision.images import as_rgb


class RandomVision(VisionDetector):
    state_attributes = ("fitted_on_",)
    state_spec = declare(fitted_on_=Int(ge=1))

    def _fit(self, samples: Sequence[Any]) -> None:
        for i in range(len(samples)):
            as_rgb(samples[i], f"{self.where}.fit, image {i}")
        self.fitted_on_ = len(samples)

    def _score(self, samples: Sequence[Any]) -> Scores:
        scores, maps = np.empty(len(samples)), []
        for i in range(len(samples)):
            image = as_rgb(samples[i], f"{self.where}.score, image {i}")
            rng = np.random.default_rng([self.seed or 0, zlib.crc32(image.tobytes())])
            scores[i] = rng.random()
            maps.append(rng.random(image.shape[:2], dtype=np.float32))
        return Scores(sample=scores, local=maps)
