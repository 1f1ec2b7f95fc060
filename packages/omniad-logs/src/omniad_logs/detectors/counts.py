"""Any registered tabular detector on session event-count vectors (``logs.counts``).

Rather than re-implementing IForest, OCSVM, KNN, ... for logs, the sessions are featurized
(``EventFeaturizer``) and the matrix goes to the detector named by ``detector`` (a
``pyod.*`` id when omniad-pyod is installed, or a core one such as ``core.knn``). Its state
is saved inside this detector's state under ``inner.``, so save/load stays pickle-free
whatever the inner detector is (omniad-pyod refits on its saved matrix and checks the
result; core detectors save arrays).

Tabular detectors score a session as a whole: there are no per-line scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omniad.nested import INNER_SPEC, InnerDetector, check_inner_state, tabular_entry
from omniad.scores import Scores
from omniad.state import declare
from omniad_logs.detectors.count_base import CountVectorDetector
from omniad_logs.detectors.count_params import CountsParams
from omniad_logs.session import LogSession


def check_inner_width(owner: CountVectorDetector, inner: InnerDetector) -> None:
    """The restored inner detector must take the owner's vectors: one zero session scored, or a ``DataError``.

    The inner entries are consistent with each other (``check_inner_state``) but nothing there
    ties their width to the featurizer's columns; a bank one column wider would only fail at
    the first ``score``. Scoring one vector of the right width here costs microseconds.
    """
    from omniad.errors import DataError, OmniadError

    width = owner.features_.n_features
    try:
        inner.score(np.zeros((1, width)))
    except OmniadError as exc:
        raise DataError(
            f"the saved inner detector {inner.detector_id} does not take the {width}-column session vectors of the "
            f"saved vocabulary ({exc})"
        ) from None


class SessionCounts(CountVectorDetector):
    Params = CountsParams
    #: the inner detector's entries, checked against its own declaration by ``check_state``
    state_spec = declare(INNER_SPEC)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tabular_entry(self.params.detector, self.where)  # a wrong id fails here, not at fit

    def _fit_vectors(self, x: np.ndarray, sessions: list[LogSession]) -> None:
        self.inner_ = InnerDetector(self, self.params.detector, self.params.detector_params)
        self.inner_.fit(x)

    def _score_vectors(self, x: np.ndarray, sessions: list[LogSession]) -> Scores:
        inner = self.inner_.score(x)
        return Scores(sample=inner.sample, decision=inner.decision, extras=inner.extras)

    def get_state(self) -> dict[str, Any]:
        return {**super().get_state(), **self.inner_.state()}

    def check_state(self, state: dict[str, Any]) -> None:
        super().check_state(state)
        check_inner_state(self, state, self.params.detector, self.params.detector_params)

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.inner_ = InnerDetector(self, self.params.detector, self.params.detector_params)
        self.inner_.restore(state, self.where)
        check_inner_width(self, self.inner_)
