"""RTFM-style weakly supervised detector: top-k feature magnitudes separate anomalous videos.

Tian et al. observe that anomalous segments have larger feature magnitudes than normal ones
after a learned temporal embedding. A temporal block maps segment features to new ones; in
each anomalous video the ``k`` segments of largest magnitude should be at least ``margin``
larger (mean magnitude) than the top ``k`` of a normal video, while a classifier on the
top-k segments learns video labels (binary cross-entropy), with smoothness and sparsity on
its segment scores. Segment scores at test time are the classifier's on every segment.

Kept from RTFM: top-k magnitude selection, the margin loss on magnitudes, the top-k BCE,
smoothness and sparsity, crop averaging. Simplified: the multi-scale temporal network
(pyramid of dilated convolutions + non-local block) is one residual block of two dilated
1-D convolutions (dilations 1 and 2); ten crops are averaged before the network instead of
scored per crop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from omniad_video.detectors.rtfm.params import RTFMParams
from omniad_video.detectors.weak import WeakDetector, weak_state


def build_net(dim: int, hidden: int, dropout: float) -> Any:
    import torch
    from torch import nn

    class RTFMNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Linear(dim, hidden)
            self.conv1 = nn.Conv1d(hidden, hidden, 3, padding=1, dilation=1)
            self.conv2 = nn.Conv1d(hidden, hidden, 3, padding=2, dilation=2)
            self.classify = nn.Sequential(nn.Linear(hidden, hidden // 4), nn.ReLU(), nn.Dropout(dropout),
                                          nn.Linear(hidden // 4, 1), nn.Sigmoid())

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            """``x (S, D)`` -> ``(embedded features (S, H), segment scores (S,))``."""
            h = torch.relu(self.embed(x)).T.unsqueeze(0)
            h = h + torch.relu(self.conv2(torch.relu(self.conv1(h))))
            feats = h.squeeze(0).T
            return feats, self.classify(feats).squeeze(-1)

    return RTFMNet()


class RTFM(WeakDetector):
    Params = RTFMParams
    state_spec = weak_state("embed.weight", "params.hidden")

    def _topk(self, feats: Any, scores: Any) -> tuple[Any, Any]:
        import torch

        k = min(self.params.k, feats.shape[0])
        mags = feats.norm(dim=1)
        idx = torch.topk(mags, k).indices
        return mags[idx].mean(), scores[idx].mean()

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
        opt = torch.optim.Adam(self.net_.parameters(), lr=p.lr, weight_decay=p.weight_decay)
        rng = np.random.default_rng(0 if self.seed is None else self.seed)
        losses = []
        self.net_.train()
        for _ in range(p.iterations):
            a = rng.choice(pos, size=min(p.batch_size, len(pos)), replace=len(pos) < p.batch_size)
            n = rng.choice(neg, size=len(a), replace=len(neg) < len(a))
            terms = []
            for i, j in zip(a, n, strict=True):
                fa, sa = self.net_(bags[i])
                fn, sn = self.net_(bags[j])
                mag_a, top_a = self._topk(fa, sa)
                mag_n, top_n = self._topk(fn, sn)
                magnitude = (torch.relu(p.margin - mag_a) + mag_n) ** 2
                bce = -(torch.log(top_a.clamp(min=1e-6)) + torch.log((1 - top_n).clamp(min=1e-6)))
                smooth = ((sa[1:] - sa[:-1]) ** 2).sum()
                terms.append(bce + p.alpha * magnitude + p.smoothness * smooth + p.sparsity * sa.sum())
            loss = torch.stack(terms).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        self.net_.eval()
        self.train_loss_ = np.asarray(losses)

    def _segment_scores(self, segments: Any) -> Any:
        return self.net_(segments)[1]

    def _build_net(self) -> Any:
        return build_net(self.dim_, self.params.hidden, self.params.dropout)
