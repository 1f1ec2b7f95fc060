"""GLAD-style graph detector: one graph per session, a small message-passing network, Deep SVDD.

GLAD (Li et al., 2023) reads log windows as graphs of the entities the messages mention and
scores them with a graph network. This is a small, CPU-fast version of that idea:

- nodes: each distinct event of the session, and each distinct parameter value (an
  "entity": IP, block id, path, number, ...) when ``LogSession.parameters`` is given. Event
  nodes start from a learned embedding of the event id (one shared "unknown" row for events
  unseen at fit); entity nodes from a learned embedding of their shape (ip, number, hex,
  path, id, word), since entity values rarely repeat across sessions. Every node also gets
  ``log(1 + occurrences)``, so counts matter as they do in the count-vector methods.
- edges (weighted by multiplicity, undirected): consecutive lines' events, and each line's
  event with the entities it mentions (co-occurrence within a line).
- network: ``layers`` rounds of weighted-mean message passing ``h <- relu(W_self h +
  W_neigh mean(h_neigh))``, a linear projection and a sum (default) or mean readout, all without bias
  (Deep SVDD's condition against the trivial constant solution).
- training: one-class Deep SVDD (Ruff et al., ICML 2018): pull normal graph embeddings to a
  centre fixed from the untrained network; the score is the squared distance to the centre.

Without parameters (HDFS's pre-parsed event-id sessions) the graphs have event nodes only;
the fit records that in ``adjusted_params['use_parameters']`` and ``graph_mode_``.

Per line: with a linear readout, the squared distance splits exactly over nodes,
``|z - c|^2 = sum_v (a g_v - c/N) . (z - c)``; a node's share is split evenly over the lines
that carry it (its event's occurrences, its entity's mentions), so the line scores of a
session sum to its score. The method has no published decision rule: no ``decision``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from omniad.device import torch_cpu_threads
from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Array, Bool, Module, Str, declare
from omniad.torchstate import load_module_arrays, module_arrays
from omniad_logs.detectors.count_base import CountVectorDetector
from omniad_logs.detectors.count_params import GLADParams
from omniad_logs.session import LogSession

ENTITY_TYPES = ("ip", "number", "hex", "path", "id", "word")
_SHAPES = (
    ("ip", re.compile(r"^/?\d{1,3}(\.\d{1,3}){3}(:\d+)?$")),
    ("number", re.compile(r"^[-+]?\d+([.,]\d+)?$")),
    ("hex", re.compile(r"^(0x)?[0-9a-fA-F]{6,}$")),
    ("path", re.compile(r"[/\\]")),
    ("id", re.compile(r"\d")),
)
MODULE = "module"
CENTRE_EPS = 0.1


def entity_type(value: str) -> int:
    for i, (_, pattern) in enumerate(_SHAPES):
        if pattern.search(value):
            return i
    return len(_SHAPES)  # word


@dataclass
class Graph:
    """One session as arrays: node kinds, counts, weighted edges, and which nodes each line uses."""

    kinds: np.ndarray  # (N,) embedding row of each node
    counts: np.ndarray  # (N,) occurrences / mentions
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    line_event: np.ndarray  # (L,) node of each line's event
    mention_line: np.ndarray  # (M,) line of each (line, entity) mention
    mention_node: np.ndarray  # (M,) entity node of that mention


def build_graph(session: LogSession, columns: np.ndarray, n_events: int, use_parameters: bool) -> Graph:
    """``columns``: featurizer column per line (n_events = the unknown column)."""
    event_node: dict[int, int] = {}
    line_event = np.empty(len(session), dtype=np.int64)
    for i, c in enumerate(columns):
        line_event[i] = event_node.setdefault(int(c), len(event_node))
    kinds = list(event_node)
    counts = np.bincount(line_event, minlength=len(kinds)).astype(np.float64).tolist()
    edges: dict[tuple[int, int], float] = {}

    def link(a: int, b: int) -> None:
        key = (a, b) if a <= b else (b, a)
        edges[key] = edges.get(key, 0.0) + 1.0

    for i in range(len(session) - 1):
        link(int(line_event[i]), int(line_event[i + 1]))
    mention_line: list[int] = []
    mention_node: list[int] = []
    if use_parameters and session.parameters is not None:
        entity_node: dict[str, int] = {}
        for i, params in enumerate(session.parameters):
            for value in dict.fromkeys(params):  # a value twice on one line is one mention
                node = entity_node.get(value)
                if node is None:
                    node = entity_node[value] = len(kinds)
                    kinds.append(n_events + 1 + entity_type(value))
                    counts.append(0.0)
                counts[node] += 1.0
                link(int(line_event[i]), node)
                mention_line.append(i)
                mention_node.append(node)
    pairs = np.asarray(list(edges), dtype=np.int64).reshape(-1, 2)
    w = np.asarray(list(edges.values()), dtype=np.float64)
    n = len(kinds)
    loops = np.arange(n)
    src = np.r_[pairs[:, 0], pairs[:, 1], loops]
    dst = np.r_[pairs[:, 1], pairs[:, 0], loops]
    weight = np.r_[w, w, np.ones(n)]
    return Graph(
        kinds=np.asarray(kinds, dtype=np.int64), counts=np.asarray(counts), src=src, dst=dst,
        weight=np.log1p(weight), line_event=line_event,
        mention_line=np.asarray(mention_line, dtype=np.int64), mention_node=np.asarray(mention_node, dtype=np.int64),
    )


class GraphBatch:
    """Disjoint union of graphs as torch tensors on one device."""

    def __init__(self, graphs: Sequence[Graph], device: torch.device) -> None:
        sizes = np.array([len(g.kinds) for g in graphs])
        offsets = np.r_[0, np.cumsum(sizes)[:-1]]
        t = lambda a, dtype: torch.as_tensor(np.concatenate(a), dtype=dtype, device=device)  # noqa: E731
        self.kinds = t([g.kinds for g in graphs], torch.long)
        self.counts = t([g.counts for g in graphs], torch.float32)
        self.src = t([g.src + o for g, o in zip(graphs, offsets, strict=True)], torch.long)
        self.dst = t([g.dst + o for g, o in zip(graphs, offsets, strict=True)], torch.long)
        self.weight = t([g.weight for g in graphs], torch.float32)
        self.graph = torch.as_tensor(np.repeat(np.arange(len(graphs)), sizes), dtype=torch.long, device=device)
        self.sizes = torch.as_tensor(sizes, dtype=torch.float32, device=device)
        self.n_graphs = len(graphs)
        self.n_nodes = int(sizes.sum())


class GraphSVDDNet(nn.Module):
    def __init__(self, n_kinds: int, hidden: int, layers: int, readout: str) -> None:
        super().__init__()
        self.embed = nn.Embedding(n_kinds, hidden)
        self.count = nn.Linear(1, hidden, bias=False)
        self.self_lin = nn.ModuleList(nn.Linear(hidden, hidden, bias=False) for _ in range(layers))
        self.neigh_lin = nn.ModuleList(nn.Linear(hidden, hidden, bias=False) for _ in range(layers))
        self.project = nn.Linear(hidden, hidden, bias=False)
        self.readout = readout

    def nodes(self, b: GraphBatch) -> torch.Tensor:
        """Per-node output g_v, already scaled by the readout (1/N for mean), so z = sum of rows."""
        h = self.embed(b.kinds) + self.count(torch.log1p(b.counts)[:, None])
        norm = torch.zeros(b.n_nodes, device=h.device).index_add_(0, b.dst, b.weight).clamp_min(1e-9)
        for lin_self, lin_neigh in zip(self.self_lin, self.neigh_lin, strict=True):
            msg = torch.zeros_like(h).index_add_(0, b.dst, h[b.src] * b.weight[:, None]) / norm[:, None]
            h = torch.relu(lin_self(h) + lin_neigh(msg))
        g = self.project(h)
        if self.readout == "mean":
            g = g / b.sizes[b.graph][:, None]
        return g

    def forward(self, b: GraphBatch) -> tuple[torch.Tensor, torch.Tensor]:
        g = self.nodes(b)
        z = torch.zeros(b.n_graphs, g.shape[1], device=g.device).index_add_(0, b.graph, g)
        return z, g


class GLAD(CountVectorDetector):
    Params = GLADParams
    weighting = "count"
    normalization = "none"
    #: the network's shapes (its embedding has a row per saved event) are checked by the strict
    #: ``load_state_dict`` in ``set_state``
    state_spec = declare({
        "center_": Array("params.hidden"),
        "use_parameters_": Bool(),
        "graph_mode_": Str(choices=("events+entities", "events only")),
        MODULE: Module(),
    })

    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.device)

    def uses_parameters(self) -> bool:
        return bool(getattr(self, "use_parameters_", False))

    def _graphs(self, sessions: Sequence[LogSession]) -> list[Graph]:
        n_events = len(self.features_.events_)
        return [
            build_graph(s, self.features_.columns_of(s), n_events, self.use_parameters_) for s in sessions
        ]

    def _unique(self, sessions: Sequence[LogSession]) -> tuple[list[LogSession], np.ndarray, np.ndarray]:
        """Distinct sessions (same events and parameters give the same graph) and their counts."""
        keys: dict[tuple[Any, ...], int] = {}
        inverse = np.empty(len(sessions), dtype=np.int64)
        reps: list[LogSession] = []
        for i, s in enumerate(sessions):
            key = (s.events, s.parameters if self.use_parameters_ else None)
            j = keys.get(key)
            if j is None:
                j = keys[key] = len(reps)
                reps.append(s)
            inverse[i] = j
        return reps, inverse, np.bincount(inverse, minlength=len(reps)).astype(np.float64)

    def _fit_vectors(self, x: np.ndarray, sessions: list[LogSession]) -> None:
        p = self.params
        with_params = any(s.parameters is not None and any(s.parameters) for s in sessions)
        self.use_parameters_ = bool(p.use_parameters and with_params)
        if p.use_parameters and not with_params:
            self.adjusted_params["use_parameters"] = {
                "requested": True, "used": False,
                "why": "the training sessions carry no parameters, so the graphs have event nodes only",
            }
        self.graph_mode_ = "events+entities" if self.use_parameters_ else "events only"
        reps, _, weights = self._unique(sessions)
        graphs = self._graphs(reps)
        device = self.torch_device
        generator = torch.Generator().manual_seed(0 if self.seed is None else int(self.seed))
        torch.manual_seed(0 if self.seed is None else int(self.seed))
        n_kinds = len(self.features_.events_) + 1 + len(ENTITY_TYPES)
        with torch_cpu_threads(p.cpu_threads, device):
            self.module_ = GraphSVDDNet(n_kinds, p.hidden, p.layers, p.readout).to(device)
            batches = [(graphs[i : i + p.batch_size], weights[i : i + p.batch_size]) for i in range(0, len(graphs), p.batch_size)]
            self.module_.eval()
            with torch.no_grad():
                total = sum(
                    (self.module_(GraphBatch(g, device))[0] * torch.as_tensor(w, dtype=torch.float32, device=device)[:, None]).sum(0)
                    for g, w in batches
                )
                c = total / float(weights.sum())
                # Ruff et al.: coordinates near zero would let a dead unit sit on the centre trivially
                c = torch.where(c.abs() < CENTRE_EPS, torch.where(c < 0, -CENTRE_EPS, CENTRE_EPS), c)
            self.center_ = c.detach().cpu().numpy().astype(np.float32)
            center = c.to(device)
            optimizer = torch.optim.Adam(self.module_.parameters(), lr=p.lr, weight_decay=p.weight_decay)
            w_all = torch.as_tensor(weights, dtype=torch.float32)
            self.history_: list[float] = []
            self.module_.train()
            for _ in range(p.epochs):
                order = torch.randperm(len(graphs), generator=generator).numpy()
                epoch_loss = 0.0
                for start in range(0, len(order), p.batch_size):
                    idx = order[start : start + p.batch_size]
                    batch = GraphBatch([graphs[i] for i in idx], device)
                    w = w_all[idx].to(device)
                    z, _ = self.module_(batch)
                    loss = (((z - center) ** 2).sum(1) * w).sum() / w_all.sum().to(device)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    epoch_loss += float(loss.detach())
                if not np.isfinite(epoch_loss):
                    raise DataError(f"{self.where}.fit: the training loss became {epoch_loss}; lower lr")
                self.history_.append(epoch_loss)
            self.module_.eval()

    def _score_vectors(self, x: np.ndarray, sessions: list[LogSession]) -> Scores:
        reps, inverse, _ = self._unique(sessions)
        graphs = self._graphs(reps)
        device = self.torch_device
        center = torch.as_tensor(self.center_, device=device)
        sample = np.empty(len(reps))
        local: list[np.ndarray] = []
        bs = self.params.batch_size
        with torch_cpu_threads(self.params.cpu_threads, device), torch.no_grad():
            self.module_.eval()
            for start in range(0, len(graphs), bs):
                chunk = graphs[start : start + bs]
                batch = GraphBatch(chunk, device)
                z, g = self.module_(batch)
                diff = z - center
                sample[start : start + len(chunk)] = (diff**2).sum(1).cpu().numpy()
                share = ((g - center / batch.sizes[batch.graph][:, None]) * diff[batch.graph]).sum(1).cpu().numpy()
                offset = 0
                for graph in chunk:
                    node_share = share[offset : offset + len(graph.kinds)]
                    offset += len(graph.kinds)
                    local.append(self._line_shares(graph, node_share))
        return Scores(sample=sample[inverse], local=[local[j] for j in inverse])

    @staticmethod
    def _line_shares(graph: Graph, node_share: np.ndarray) -> np.ndarray:
        out = node_share[graph.line_event] / graph.counts[graph.line_event]
        if len(graph.mention_line):
            np.add.at(out, graph.mention_line, node_share[graph.mention_node] / graph.counts[graph.mention_node])
        return out.astype(np.float64)

    # -- persistence ---------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        return {
            **super().get_state(),
            "center_": self.center_,
            "use_parameters_": self.use_parameters_,
            "graph_mode_": self.graph_mode_,
            **module_arrays(self.module_, MODULE),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        p = self.params
        self.center_ = np.asarray(state["center_"], dtype=np.float32)
        self.use_parameters_ = bool(state["use_parameters_"])
        self.graph_mode_ = str(state["graph_mode_"])
        if self.graph_mode_ != ("events+entities" if self.use_parameters_ else "events only"):
            raise DataError(f"saved state 'graph_mode_' {self.graph_mode_!r} contradicts use_parameters_="
                            f"{self.use_parameters_}")
        n_kinds = len(self.features_.events_) + 1 + len(ENTITY_TYPES)
        self.module_ = GraphSVDDNet(n_kinds, p.hidden, p.layers, p.readout)
        load_module_arrays(self.module_, state, MODULE)
        self.module_.to(self.torch_device).eval()
