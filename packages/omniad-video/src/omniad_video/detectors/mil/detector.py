"""MIL ranking: a segment scorer trained on video-level labels with the multiple-instance ranking loss.

Sultani et al. treat a video as a bag of 32 segments: an anomalous video contains at least
one anomalous segment, a normal one none. The hinge loss asks the highest-scored segment of
an anomalous bag to beat the highest of a normal bag by a margin of 1, plus a temporal
smoothness term (squared differences of neighbouring segment scores) and a sparsity term
(sum of the anomalous bag's scores), both weighted 8e-5. The network is the paper's: FC 4096
(or the feature width) -> 512 -> 32 -> 1 with ReLU, dropout 0.6 and a sigmoid.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from omniad_video.detectors.mil.params import MILParams
from omniad_video.detectors.weak import WeakDetector, weak_state


def build_net(dim: int, hidden: tuple[int, int], dropout: float) -> Any:
    from torch import nn

    return nn.Sequential(
        nn.Linear(dim, hidden[0]), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(hidden[0], hidden[1]), nn.Dropout(dropout),
        nn.Linear(hidden[1], 1), nn.Sigmoid(),
    )


def mil_loss(anomalous: Any, normal: Any, smoothness: float, sparsity: float) -> Any:
    """``anomalous`` / ``normal``: ``(B, S)`` segment scores of paired bags (``B`` pairs)."""
    import torch

    hinge = torch.relu(1.0 - anomalous.max(1).values + normal.max(1).values)
    smooth = ((anomalous[:, 1:] - anomalous[:, :-1]) ** 2).sum(1)
    sparse = anomalous.sum(1)
    return (hinge + smoothness * smooth + sparsity * sparse).mean()


class MIL(WeakDetector):
    Params = MILParams
    state_spec = weak_state("0.weight", None)

    def _fit(self, samples: Sequence[Any]) -> None:
        import torch

        p = self.params
        where = f"{self.where}.fit"
        videos = self._videos(samples, where)
        labels = self._weak_labels(videos, where)
        self.dim_ = int(videos[0].features.shape[-1])
        bags = [torch.as_tensor(self._segments(v), device=self.device) for v in videos]
        pos, neg = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
        self.net_ = self._build_net().to(self.device)
        opt_cls = torch.optim.Adagrad if p.optimizer == "adagrad" else torch.optim.Adam
        opt = opt_cls(self.net_.parameters(), lr=p.lr, weight_decay=p.weight_decay)
        rng = np.random.default_rng(0 if self.seed is None else self.seed)
        losses = []
        self.net_.train()
        for _ in range(p.iterations):
            a = rng.choice(pos, size=min(p.batch_size, len(pos)), replace=len(pos) < p.batch_size)
            n = rng.choice(neg, size=len(a), replace=len(neg) < len(a))
            # bags may differ in length (RTFM features), so each pair is scored on its own
            loss = torch.stack([
                mil_loss(self.net_(bags[i]).T, self.net_(bags[j]).T, p.smoothness, p.sparsity)
                for i, j in zip(a, n, strict=True)
            ]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        self.net_.eval()
        self.train_loss_ = np.asarray(losses)

    def _segment_scores(self, segments: Any) -> Any:
        return self.net_(segments).squeeze(-1)

    def _build_net(self) -> Any:
        return build_net(self.dim_, self.params.hidden, self.params.dropout)
