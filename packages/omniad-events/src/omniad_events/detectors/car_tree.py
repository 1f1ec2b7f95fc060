"""CAR's temporal model: a variable-order context (prefix) tree over one field's values in each sequence.

Every context of up to ``depth`` preceding values seen at least ``min_count`` times in the
training sequences is a node holding the counts of the value that followed it. The predictive
probability of the next value backs off from the longest known context to the empty one, each
level smoothing towards its parent as a hierarchical Pitman-Yor process would (the "one table
per seen value" approximation, i.e. interpolated Kneser-Ney without continuation counts;
Teh 2006), which is how CAR's hierarchical Bayesian model shares strength between short and
long contexts:

    P(x | c) = max(N(c, x) - d, 0) / (theta + N(c)) + (theta + d * T(c)) / (theta + N(c)) * P(x | c')

with c' = c without its oldest value, T(c) the number of distinct values after c, d the
discount and theta the strength. The root backs off to a uniform over the vocabulary plus one
"unseen" value, so an unseen value or a context never seen still gets a finite, low probability.
Surprise = -log P(x_t | x_{t-depth}..x_{t-1}).

Pure Python and NumPy (no torch); saved as one integer array of (field, depth, context...,
value, count) rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from omniad.errors import DataError


class ContextTree:
    """Context counts of one field; ``n_values`` codes (the last = unseen)."""

    def __init__(
        self,
        depth: int,
        n_values: int,
        nodes: dict[tuple[int, ...], dict[int, int]],
        discount: float,
        strength: float,
    ) -> None:
        self.depth = depth
        self.n_values = n_values
        self.nodes = nodes
        self.discount = discount
        self.strength = strength
        self._totals = {c: (sum(v.values()), len(v)) for c, v in nodes.items()}

    @classmethod
    def fit(
        cls,
        sequences: Sequence[np.ndarray],
        depth: int,
        n_values: int,
        min_count: int,
        discount: float,
        strength: float,
    ) -> ContextTree:
        counts: dict[tuple[int, ...], dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for seq in sequences:
            s = [int(v) for v in seq]
            for t, x in enumerate(s):
                for d in range(min(depth, t) + 1):
                    counts[tuple(s[t - d : t])][x] += 1
        nodes = {c: dict(v) for c, v in counts.items() if c == () or sum(v.values()) >= min_count}
        return cls(depth, n_values, nodes, discount, strength)

    def probability(self, context: Sequence[int], x: int, held_out: bool = False) -> float:
        """P(x | context); ``held_out``: as if this one occurrence had not been counted (the event is a
        training event, so its own count is taken out of every node on its path: leave-one-out)."""
        p = 1.0 / self.n_values
        d, th = self.discount, self.strength
        for k in range(min(self.depth, len(context)) + 1):
            c = tuple(context[len(context) - k :]) if k else ()
            node = self.nodes.get(c)
            if node is None:  # a longer context than any seen: keep the shorter one's prediction
                break
            n, t = self._totals[c]
            nx = node.get(x, 0)
            if held_out and nx > 0:
                n, nx, t = n - 1, nx - 1, t - (nx == 1)
            p = max(nx - d, 0.0) / (th + n) + (th + d * t) / (th + n) * p
        return p

    def surprise(self, seq: np.ndarray, held_out: bool = False) -> np.ndarray:
        """-log P of each value of one sequence given the values before it in that sequence (``held_out``:
        of a training sequence, each value left out of the counts, so training surprises are not optimistic)."""
        s = [int(v) for v in seq]
        return np.array(
            [-np.log(self.probability(s[max(0, t - self.depth) : t], x, held_out)) for t, x in enumerate(s)]
        )

    # -- persistence: rows (depth, context padded with -1 on the left, value, count) ----------------
    def rows(self) -> np.ndarray:
        out = []
        for c, node in self.nodes.items():
            pad = [-1] * (self.depth - len(c)) + list(c)
            out += [[len(c), *pad, x, n] for x, n in node.items()]
        return np.asarray(out, dtype=np.int64).reshape(-1, self.depth + 3)

    @classmethod
    def from_rows(
        cls, rows: np.ndarray, depth: int, n_values: int, discount: float, strength: float, where: str
    ) -> ContextTree:
        if rows.ndim != 2 or rows.shape[1] != depth + 3:
            raise DataError(
                f"{where}: saved context tree has shape {rows.shape}, not (rows, {depth + 3}); re-save the model"
            )
        nodes: dict[tuple[int, ...], dict[int, int]] = defaultdict(dict)
        for r in rows.tolist():
            k, ctx, x, n = r[0], r[1 : depth + 1], r[depth + 1], r[depth + 2]
            if (
                not 0 <= k <= depth
                or n < 1
                or not 0 <= x < n_values
                or any(not 0 <= v < n_values for v in ctx[depth - k :])
            ):
                raise DataError(f"{where}: saved context tree holds a bad row {r}; re-save the model")
            nodes[tuple(ctx[depth - k :])][x] = n
        if () not in nodes:
            raise DataError(f"{where}: saved context tree has no root counts; re-save the model")
        return cls(depth, n_values, dict(nodes), discount, strength)
