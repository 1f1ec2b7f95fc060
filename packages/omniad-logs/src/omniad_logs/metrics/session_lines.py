"""Does the detector point at the right lines inside a flagged session?

``core.local_auroc`` pools every line of every session, so it mostly measures whether
anomalous sessions' lines outscore normal sessions' lines — a detector that gives every line
its session's score does well there without localising anything. This metric asks the
question inside each anomalous session: the AUROC of its line scores against its line
labels, averaged over the anomalous sessions where that AUROC is defined (some lines
anomalous, some not). Sessions whose lines are all anomalous or all normal are skipped and
counted.
"""

from __future__ import annotations

import numpy as np

from omniad import metrics as M
from omniad.data import Split
from omniad.errors import DataError
from omniad.metric import Metric, MetricValue
from omniad.scores import Scores


class SessionLineAUROC(Metric):
    def compute(self, truth: Split, scores: Scores) -> MetricValue:
        targets, maps = self.local_arrays(truth, scores)
        labels = truth.labels if truth.labels is not None else np.array([int(np.any(t > 0)) for t in targets])
        for i, local in enumerate(maps):  # a NaN anywhere is a broken detector, even in a session not averaged
            if not np.all(np.isfinite(np.asarray(local, dtype=np.float64))):
                raise DataError(
                    f"{self.where}: line scores of {truth.sample_id(i)} contain NaN/inf; fix the detector or the input"
                )
        values: list[float] = []
        skipped = 0
        for label, target, local in zip(labels, targets, maps, strict=True):
            if not label:
                continue
            y = (np.asarray(target).reshape(-1) > 0).astype(np.int8)
            s = np.asarray(local, dtype=np.float64).reshape(-1)
            if y.min() == y.max():
                skipped += 1
                continue
            values.append(M.roc_auc(y, s))
        if not values:
            raise DataError(
                f"{self.where}: no anomalous session has both anomalous and normal lines ({skipped} skipped), "
                "so the per-session line AUROC is undefined; use core.local_auroc"
            )
        return {"session_line_auroc": float(np.mean(values)), "n_sessions": float(len(values)), "n_skipped": float(skipped)}
