"""Deep SVDD on text embeddings (``text.deep_svdd``; Ruff et al., ICML 2018), in torch.

A bias-free MLP maps the frozen embeddings of the normal texts into a small space and is
trained to pull them towards a fixed centre ``c`` (the mean of the initial outputs, with
near-zero coordinates pushed to +-eps so the trivial all-zero solution is not reachable);
the score is the squared distance to ``c``. Bias-free layers and a fixed centre are the
paper's conditions against collapse. The embeddings are fixed, so a few hundred texts
train in seconds on a CPU. Saved as the network's arrays plus ``c`` (safetensors).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from omniad.device import torch_cpu_threads
from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Array, Module, declare
from omniad_text.detectors.base import EmbeddingDetector
from omniad_text.detectors.params import DeepSVDDParams
from omniad_text.detectors.torch_utils import make_generator

NET = "net"
EPS = 0.1


def build_net(dims: list[int]) -> Any:
    import torch.nn as nn

    layers: list[Any] = []
    for i, (a, b) in enumerate(itertools.pairwise(dims)):
        layers.append(nn.Linear(a, b, bias=False))
        if i < len(dims) - 2:
            layers.append(nn.LeakyReLU(0.1))
    return nn.Sequential(*layers)


class TextDeepSVDD(EmbeddingDetector):
    uses_torch = True
    Params = DeepSVDDParams
    model_state = ("center_", "train_loss_")
    state_spec = declare(center_=Array("params.rep_dim"), train_loss_=Array("params.epochs"), net=Module())

    def _dims(self, embedding_dim: int | None = None) -> list[int]:
        return [embedding_dim or self.embedding_dim_, *self.params.hidden, self.params.rep_dim]

    def _fit_vectors(self, x: np.ndarray) -> None:
        import torch

        p = self.params
        gen = make_generator(self.seed)
        with torch_cpu_threads(p.cpu_threads, self.device):
            torch.manual_seed(int(gen.initial_seed()))
            net = build_net(self._dims()).to(self.device)
            data = torch.as_tensor(x, dtype=torch.float32, device=self.device)
            net.eval()
            with torch.no_grad():
                c = net(data).mean(dim=0)
            c[(c.abs() < EPS) & (c < 0)] = -EPS
            c[(c.abs() < EPS) & (c >= 0)] = EPS
            net.train()
            opt = torch.optim.Adam(net.parameters(), lr=p.lr, weight_decay=p.weight_decay)
            losses = []
            for _ in range(p.epochs):
                order = torch.randperm(len(data), generator=gen).to(self.device)
                total = 0.0
                for start in range(0, len(data), p.batch_size):
                    batch = data[order[start : start + p.batch_size]]
                    loss = ((net(batch) - c) ** 2).sum(dim=1).mean()
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    total += float(loss.detach()) * len(batch)
                losses.append(total / len(data))
        net.eval()
        self.net_ = net
        self.center_ = c.detach().cpu().numpy().astype(np.float64)
        self.train_loss_ = np.asarray(losses, dtype=np.float64)

    def _score_vectors(self, x: np.ndarray) -> Scores:
        import torch

        with torch.inference_mode():
            z = self.net_(torch.as_tensor(x, dtype=torch.float32, device=self.device))
            c = torch.as_tensor(self.center_, dtype=torch.float32, device=self.device)
            return Scores(sample=((z - c) ** 2).sum(dim=1).double().cpu().numpy())

    def get_state(self) -> dict[str, Any]:
        from omniad.torchstate import module_arrays

        return {**super().get_state(), **module_arrays(self.net_, NET)}

    def check_state(self, state: dict[str, Any]) -> None:
        """The layers must have the widths the parameters and ``embedding_dim_`` give, before any is built.

        Checked here rather than left to ``load_state_dict``: an edited ``embedding_dim_`` of
        10**7 would otherwise allocate a 10**7-wide layer before the shapes are compared.
        """
        super().check_state(state)
        dims = self._dims(int(state["embedding_dim_"]))
        want = {f"{NET}.{2 * i}.weight": (b, a) for i, (a, b) in enumerate(itertools.pairwise(dims))}
        got = {k: tuple(np.shape(v)) for k, v in state.items() if k.startswith(f"{NET}.")}
        if got != want:
            raise DataError(f"saved network arrays {got} do not match the layers {dims} of the parameters "
                            f"(embedding_dim_ {dims[0]}, hidden {list(self.params.hidden)}, rep_dim {dims[-1]})")

    def _restore(self, state: dict[str, Any]) -> None:
        from omniad.torchstate import load_module_arrays

        self.center_ = np.asarray(self.center_, dtype=np.float64)
        self.train_loss_ = np.asarray(self.train_loss_, dtype=np.float64)
        net = build_net(self._dims())
        load_module_arrays(net, state, NET)  # strict: a shape or key that does not fit fails at load
        self.net_ = net.to(self.device).eval()
