"""A synthetic dataset where anomalies differ from normal data in only a few features.

That is the common case in practice (one sensor drifts, one embedding direction moves)
and the hard case for whole-vector distances, whose signal shrinks as the number of
unchanged features grows. One subset per shift size shows how detection degrades as
anomalies get subtler; severity follows the size of each anomaly's shift.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from omniad import Dataset, Split, Subset
from omniad.errors import ConfigError
from omniad_plugin_template.params import SparseShiftParams


class SparseShift(Dataset):
    Params = SparseShiftParams

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        if p.n_shifted > p.n_features:
            raise ConfigError(
                f"{self.where}: n_shifted={p.n_shifted} exceeds n_features={p.n_features}; "
                "lower n_shifted or raise n_features"
            )
        # Each subset gets its own stream so adding a shift value leaves the others unchanged.
        for index, shift in enumerate(p.shifts):
            rng = np.random.default_rng([p.seed, index])
            yield self._subset(rng, shift)

    def _normal(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """AR(1)-correlated features with unit variance: feature j+1 = rho * feature j + noise."""
        rho = self.params.correlation
        x = rng.normal(size=(n, self.params.n_features))
        for j in range(1, x.shape[1]):
            x[:, j] = rho * x[:, j - 1] + np.sqrt(1 - rho**2) * x[:, j]
        return x

    def _subset(self, rng: np.random.Generator, shift: float) -> Subset:
        p = self.params
        train = self._normal(rng, p.n_train)
        normal = self._normal(rng, p.n_test_normal)
        anomalies = self._normal(rng, p.n_test_anomalous)
        magnitude = rng.uniform(shift, 2 * shift, size=p.n_test_anomalous)
        for i in range(p.n_test_anomalous):
            features = rng.choice(p.n_features, size=p.n_shifted, replace=False)
            anomalies[i, features] += rng.choice([-1.0, 1.0], size=p.n_shifted) * magnitude[i]
        # Severity 1..3: which third of [shift, 2*shift] the anomaly's magnitude falls in.
        severity = 1 + np.minimum(((magnitude - shift) / shift * 3).astype(int), 2)
        x = np.vstack([normal, anomalies])
        labels = np.r_[np.zeros(len(normal)), np.ones(len(anomalies))].astype(np.int8)
        order = rng.permutation(len(x))
        test = Split(
            samples=x[order],
            labels=labels[order],
            severity=np.r_[np.zeros(len(normal)), severity][order],
            ids=[f"shift{shift:g}-{i}" for i in range(len(x))],
        )
        return Subset(name=f"shift-{shift:g}", train=Split(samples=train), test=test, meta={"shift": shift})
