"""CVDD, context vector data description (``text.cvdd``; Ruff et al., ACL 2019).

A text is a sequence of token vectors H (T x d). A self-attention with r heads,
A = softmax_T(W2 tanh(W1 H^T)) (r x T), gives r text representations M = A H, and r
context vectors C are trained with it so that each head of a normal text points at its
context: the score is the mean over heads of the cosine distance 0.5 (1 - cos(m_k, c_k)),
higher = more anomalous. As in the authors' code (lukasruff/CVDD-PyTorch): the contexts
start at spherical k-means centres of the normalised mean token vectors of the training
texts, the penalty lambda * mean((C C^T - I)^2) keeps the contexts apart, gradients are
clipped to norm 0.5, and only W1, W2 and C are trained (the encoder stays frozen).

The token vectors (``tokens``):

* ``contextual`` (default): the last hidden states of the encoder named by
  ``embedding.model`` (MiniLM's by default), special tokens left out - the paper's
  pre-trained language-model variant. One encoder forward pass per text at fit and score.
* ``static``: the encoder's input token-embedding table, in the role of the paper's GloVe
  vectors (no forward pass), with stop words, punctuation and digits removed as Ruff et al.
  preprocess. Measured weak: a mean of static word-piece vectors moves towards the
  centroid as a text gets longer, so a corpus whose anomalies are longer than its normal
  texts (SMS spam vs ham) scores them as *more* normal (AUROC 0.30 on BBC snippets with
  5-15-word normal and 20-35-word anomalous texts; contextual 0.80). Kept for comparison.

Deviations, said because they change the numbers: the heads are averaged with equal weight
(the authors anneal a softmax weighting whose temperature stays <= 1 on distances in [0, 1],
close to equal), and W2 starts at zero, so training starts from uniform attention (the
normalised mean of the token vectors, itself a strong score) instead of a random one.

Saved: the trained arrays (safetensors), the identity of the encoder whose token vectors
were used and their width (``token_dim_``: the hidden size for contextual states, the token
table's width for static ones; they differ in ALBERT-like encoders); ``load`` reads that
encoder again, refuses a different one, and rebuilds the network at the saved width.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from omniad.device import torch_cpu_threads
from omniad.errors import ConfigError, DataError, MissingDependencyError
from omniad.scores import Scores
from omniad.state import Array, Int, Json, Module, Str, declare
from omniad_text.detectors.inputs import TextDetector
from omniad_text.detectors.params import CVDDParams
from omniad_text.detectors.torch_utils import make_generator

NET = "net"
#: gradient-norm clip of the authors' trainer
CLIP = 0.5
#: texts whose token states are held at once while scoring (~25 MB each at 128 tokens x 384)
SCORE_CHUNK = 512


def build_net(d: int, attention: int, heads: int) -> Any:
    import torch
    import torch.nn as nn

    class ContextAttention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w1 = nn.Linear(d, attention, bias=False)
            self.w2 = nn.Linear(attention, heads, bias=False)
            nn.init.zeros_(self.w2.weight)  # uniform attention to start with
            self.contexts = nn.Parameter(torch.zeros(heads, d))

        def forward(self, h: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            logits = self.w2(torch.tanh(self.w1(h)))  # (B, T, r)
            logits = logits.masked_fill(~mask[:, :, None], float("-inf"))
            a = torch.softmax(logits, dim=1).transpose(1, 2)  # (B, r, T)
            return a @ h, a  # M: (B, r, d)

        def distances(self, m: torch.Tensor) -> torch.Tensor:
            cos = torch.nn.functional.cosine_similarity(m, self.contexts[None], dim=-1, eps=1e-8)
            return 0.5 * (1 - cos)  # (B, r)

        def penalty(self) -> torch.Tensor:
            eye = torch.eye(self.contexts.shape[0], device=self.contexts.device)
            return ((self.contexts @ self.contexts.T - eye) ** 2).mean()

    return ContextAttention()


def kmeans_contexts(x: np.ndarray, heads: int, seed: int) -> np.ndarray:
    """Unit-length k-means++ centres of the unit-length mean vectors (the authors' initialisation)."""
    from sklearn.cluster import KMeans

    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-8)
    k = min(heads, len(np.unique(x.round(6), axis=0)))
    centres = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(x).cluster_centers_
    if k < heads:  # fewer distinct texts than heads: repeat centres (the penalty pulls them apart)
        centres = np.vstack([centres, centres[np.arange(heads - k) % k]])
    return centres / np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-8)


def content_tokens(tokenizer: Any, vocab_size: int) -> np.ndarray:
    """Vocabulary mask of the tokens static CVDD attends to: not special, not punctuation or digits, not a stop word.

    Ruff et al. remove stop words and punctuation before training on static word vectors;
    without that, every head learns to attend to tokens that every text has ("the", "."),
    all texts then map onto the contexts and the scores carry no information (AUROC 0.5 on
    BBC News). The stop words are scikit-learn's English list; word pieces ("##ing") are kept.
    """
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    keep = np.zeros(vocab_size, dtype=bool)
    special = set(getattr(tokenizer, "all_special_ids", []) or [])
    for token, i in tokenizer.get_vocab().items():
        if i >= vocab_size or i in special:
            continue
        word = token.removeprefix("##").removeprefix("\u0120").removeprefix("\u2581").lower()
        keep[i] = word.isalpha() and (token.startswith("##") or word not in ENGLISH_STOP_WORDS)
    return keep


def saved_token_width(state: dict[str, Any]) -> int:
    """``token_dim_``, or in folders saved before it existed the width of the saved contexts."""
    width = state.get("token_dim_")
    if width is None:
        contexts = np.shape(state.get(f"{NET}.contexts"))
        if len(contexts) != 2:
            raise DataError(f"saved state has no 'token_dim_' and '{NET}.contexts' is not a matrix; re-save the model")
        width = contexts[1]
    return int(width)


class TextCVDD(TextDetector):
    uses_torch = True
    Params = CVDDParams
    state_spec = declare(
        model_identity_=Str(),
        token_dim_=Int(ge=1, optional=True),
        train_loss_=Array("params.epochs"),
        embedding_stats_=Json(types=(dict,)),
        net=Module(),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.embedding_stats_: dict[str, Any] = {}
        self._info: Any = None
        self._table: Any = None
        self._tokenizer: Any = None
        self._content: np.ndarray = np.zeros(0, dtype=bool)
        self._special: set[int] = set()
        self._hidden: int | None = None

    # -- tokens --------------------------------------------------------------------------
    def _load_encoder(self) -> str:
        from omniad_text.embeddings.models import describe_model, load_weights

        try:
            info = describe_model(self.params.embedding.model)
        except (ConfigError, MissingDependencyError) as exc:
            if not self.params.embedding.allow_fallback:
                raise
            warnings.warn(f"{self.where}: {exc}; falling back to model='tiny-random' (allow_fallback=true)", stacklevel=3)
            info = describe_model("tiny-random")
        model, tokenizer = load_weights(info)
        table = model.get_input_embeddings().weight.detach().float().cpu()
        self._info, self._table, self._tokenizer = info, table, tokenizer
        hidden = getattr(getattr(model, "config", None), "hidden_size", None)
        self._hidden = hidden if isinstance(hidden, int) else None
        self._content = content_tokens(tokenizer, table.shape[0])
        self._special = set(getattr(tokenizer, "all_special_ids", []) or [])
        contextual = self.params.tokens == "contextual"
        self.embedding_stats_ = {
            "source": info.source, "model_identity": info.identity,
            "tokens": "last hidden states, special tokens left out" if contextual else
                      "input embeddings, stop words and punctuation left out",
            "backend": self.params.embedding.backend if contextual else "input embedding table",
            "max_tokens": self._max_length(), "texts": 0, "truncated": 0, "empty_texts": 0,
        }
        return info.identity

    def _token_width(self) -> int | None:
        """Width of the token vectors the encoder gives in this mode (None: its config does not say)."""
        return int(self._table.shape[1]) if self.params.tokens == "static" else self._hidden

    def _encoder_name(self) -> str:
        return f"{self.params.tokens} token vectors of model {self.params.embedding.model!r} ({self._info.source})"

    def _max_length(self) -> int:
        return min(self.params.max_tokens, self._info.model_limit)

    def _encode(self, samples: Sequence[Any], step: str) -> tuple[list[list[int]], list[np.ndarray]]:
        """Token ids per text (special tokens included) and the positions CVDD attends to."""
        from omniad_text.embeddings.texts import clean_texts
        from omniad_text.embeddings.tokens import tokenize

        clean = clean_texts(samples, f"{self.where}.{step}")
        tokens = tokenize(self._tokenizer, clean.texts, self._max_length())
        stats = self.embedding_stats_
        stats["texts"] += len(tokens.ids)
        stats["truncated"] += sum(tokens.truncated)
        stats["empty_texts"] += clean.empty
        static = self.params.tokens == "static"
        keep: list[np.ndarray] = []
        for ids in tokens.ids:
            ids_arr = np.asarray(ids, dtype=np.int64)
            real = np.array([i not in self._special for i in ids], dtype=bool)
            chosen = real & self._content[np.clip(ids_arr, 0, len(self._content) - 1)] if static else real
            # a text of stop words only keeps its tokens; an empty text keeps its special tokens
            for mask in (chosen, real, np.ones(len(ids), dtype=bool)):
                if mask.any():
                    keep.append(np.flatnonzero(mask))
                    break
        return tokens.ids, keep

    def _token_ids(self, samples: Sequence[Any], step: str) -> list[list[int]]:
        """The ids of the tokens CVDD attends to, per text (for tests and inspection)."""
        ids, keep = self._encode(samples, step)
        return [[row[i] for i in k] for row, k in zip(ids, keep, strict=True)]

    def _vectors(self, samples: Sequence[Any], step: str) -> list[Any]:
        """One (T_i, d) float32 tensor per text: the token vectors at the attended positions."""
        import torch

        ids, keep = self._encode(samples, step)
        if self.params.tokens == "static":
            return [self._table[torch.as_tensor([row[i] for i in k])] for row, k in zip(ids, keep, strict=True)]
        from omniad_text.embeddings.backends import get_backend
        from omniad_text.embeddings.params import resolve_cache_dir
        from omniad_text.embeddings.tokens import Tokens, length_sorted_batches

        e = self.params.embedding
        device = self.device if e.backend == "torch" else "cpu"
        backend = get_backend(self._info, e.backend, e.dtype, device, resolve_cache_dir(e), e.num_threads)
        out: list[Any] = [None] * len(ids)
        with torch_cpu_threads(e.num_threads, device):
            batches = length_sorted_batches(Tokens(ids, None, [False] * len(ids)), e.batch_size, backend.tokenizer)
            for order, batch in batches:
                states = backend.forward(batch).float()
                if not torch.isfinite(states).all():
                    raise DataError(f"{self.where}.{step}: the encoder produced NaN/inf token states with "
                                    f"dtype={e.dtype!r}; use dtype='fp32'")
                for row, i in enumerate(order):
                    out[i] = states[row, torch.as_tensor(keep[i], device=states.device)].cpu()
        return out

    def _batches(self, vectors: list[Any], order: Sequence[int]) -> Any:
        import torch

        for start in range(0, len(order), self.params.batch_size):
            chunk = list(order[start : start + self.params.batch_size])
            width = max(len(vectors[i]) for i in chunk)
            h = torch.zeros((len(chunk), width, vectors[chunk[0]].shape[1]))
            mask = torch.zeros((len(chunk), width), dtype=torch.bool)
            for row, i in enumerate(chunk):
                h[row, : len(vectors[i])] = vectors[i]
                mask[row, : len(vectors[i])] = True
            yield chunk, h.to(self.device), mask.to(self.device)

    # -- Detector ------------------------------------------------------------------------
    def _fit(self, samples: Sequence[Any]) -> None:
        import torch

        p = self.params
        self.model_identity_ = self._load_encoder()
        vectors = self._vectors(samples, "fit")
        self.token_dim_ = int(vectors[0].shape[1])
        self.embedding_stats_["dimension"] = self.token_dim_
        gen = make_generator(self.seed)
        means = np.stack([v.mean(dim=0).double().numpy() for v in vectors])
        with torch_cpu_threads(p.cpu_threads, self.device):
            torch.manual_seed(int(gen.initial_seed()))
            net = build_net(self.token_dim_, p.attention_size, p.n_contexts).to(self.device)
            with torch.no_grad():
                contexts = kmeans_contexts(means, p.n_contexts, int(gen.initial_seed()) % 2**32)
                net.contexts.copy_(torch.as_tensor(contexts, dtype=torch.float32, device=self.device))
            opt = torch.optim.Adam(net.parameters(), lr=p.lr, weight_decay=p.weight_decay)
            losses = []
            for epoch in range(p.epochs):
                order = torch.randperm(len(vectors), generator=gen).tolist()
                running = 0.0
                for chunk, h, mask in self._batches(vectors, order):
                    distances = net.distances(net(h, mask)[0])
                    loss = distances.mean() + p.orthogonality * net.penalty()
                    opt.zero_grad()
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(net.parameters(), CLIP)
                    opt.step()
                    running += float(loss.detach()) * len(chunk)
                losses.append(running / len(vectors))
                self.report_progress(epoch + 1, p.epochs)
        if not np.all(np.isfinite(losses)):
            raise DataError(f"{self.where}.fit: CVDD training diverged (NaN/inf loss); refit with a lower lr")
        self.net_ = net.eval()
        self.train_loss_ = np.asarray(losses, dtype=np.float64)

    def _score(self, samples: Sequence[Any]) -> Scores:
        import torch

        out = np.empty(len(samples))
        for start in range(0, len(samples), SCORE_CHUNK):  # token states of a chunk at a time, not of all texts
            vectors = self._vectors(samples[start : start + SCORE_CHUNK], "score")
            if vectors[0].shape[1] != self.token_dim_:
                raise DataError(
                    f"{self.where}.score: the {self._encoder_name()} have {vectors[0].shape[1]} dimensions but the "
                    f"detector was trained on {self.token_dim_}-dimensional ones; score with the encoder and "
                    "tokens it was fitted with"
                )
            with torch.inference_mode():
                for chunk, h, mask in self._batches(vectors, range(len(vectors))):
                    scores = self.net_.distances(self.net_(h, mask)[0]).mean(dim=1)
                    out[[start + i for i in chunk]] = scores.double().cpu().numpy()
        if not np.all(np.isfinite(out)):
            raise DataError(f"{self.where}.score: CVDD produced NaN/inf scores; refit with a lower lr")
        return Scores(sample=out)

    def provenance(self) -> dict[str, Any]:
        """Which encoder and token vectors the fit used and how training went, like the other text detectors."""
        from omniad_text.detectors.base import _jsonable

        out: dict[str, Any] = {"embedding": _jsonable(self.embedding_stats_)} if self.embedding_stats_ else {}
        losses = getattr(self, "train_loss_", None)
        if losses is not None and len(losses):
            out["training"] = {"epochs": len(losses), "loss_first_epoch": round(float(losses[0]), 6),
                               "loss_last_epoch": round(float(losses[-1]), 6)}
        return out

    # -- persistence ---------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        from omniad.torchstate import module_arrays

        return {"model_identity_": self.model_identity_, "token_dim_": self.token_dim_, "train_loss_": self.train_loss_,
                "embedding_stats_": dict(self.embedding_stats_), **module_arrays(self.net_, NET)}

    def check_state(self, state: dict[str, Any]) -> None:
        """The network arrays must have the widths of the parameters and the token vectors, before any is built.

        Checked here rather than left to ``load_state_dict``: an edited ``token_dim_`` of 10**7
        would otherwise allocate a network that wide before the shapes are compared.
        """
        super().check_state(state)
        d, p = saved_token_width(state), self.params
        want = {f"{NET}.w1.weight": (p.attention_size, d), f"{NET}.w2.weight": (p.n_contexts, p.attention_size),
                f"{NET}.contexts": (p.n_contexts, d)}
        got = {k: tuple(np.shape(v)) for k, v in state.items() if k.startswith(f"{NET}.")}
        if got != want:
            raise DataError(f"saved network arrays {got} do not match token_dim_ {d}, attention_size "
                            f"{p.attention_size} and n_contexts {p.n_contexts} ({want})")

    def set_state(self, state: dict[str, Any]) -> None:
        from omniad.torchstate import load_module_arrays

        identity = self._load_encoder()
        saved = state["model_identity_"]
        if saved != identity:
            source = (state.get("embedding_stats_") or {}).get("source", "?")
            raise DataError(
                f"{self.where}.load: the model was trained on the token vectors of encoder {source!r} (identity "
                f"{str(saved)[:12]}), but embedding.model={self.params.embedding.model!r} now gives "
                f"{self._info.source!r} (identity {identity[:12]}); load it with the encoder it was fitted with"
            )
        width = saved_token_width(state)
        expected = self._token_width()
        if expected is not None and expected != width:
            raise DataError(f"{self.where}.load: the network was trained on {width}-dimensional token vectors but "
                            f"the {self._encoder_name()} have {expected}; re-save the model")
        self.model_identity_ = identity
        self.token_dim_ = width
        self.train_loss_ = np.asarray(state["train_loss_"], dtype=np.float64)
        self.embedding_stats_ = dict(state.get("embedding_stats_") or self.embedding_stats_)
        # at the saved width: the hidden size (contextual) is not the token table's width in ALBERT-like encoders
        net = build_net(width, self.params.attention_size, self.params.n_contexts)
        load_module_arrays(net, state, NET)  # strict: a shape or key that does not fit fails at load
        self.net_ = net.to(self.device).eval()
