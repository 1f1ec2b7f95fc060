"""Seeded uniform random scores per session and per line: the floor every log detector must clear."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from omniad.detector import Detector
from omniad.scores import Scores
from omniad.state import Int, declare
from omniad_logs.detectors.count_params import RandomParams
from omniad_logs.detectors.features import check_sessions
from omniad_logs.detectors.inputs import LogInput


class RandomScores(LogInput, Detector):
    Params = RandomParams
    state_attributes = ("n_train_",)
    state_spec = declare(n_train_=Int(ge=1))

    def _fit(self, samples: Sequence[Any]) -> None:
        self.n_train_ = len(check_sessions(samples, f"{self.where}.fit"))

    def _score(self, samples: Sequence[Any]) -> Scores:
        sessions = check_sessions(samples, f"{self.where}.score")
        rng = np.random.default_rng(self.seed)
        sample = rng.random(len(sessions))
        return Scores(sample=sample, local=[rng.random(len(s)) for s in sessions])
