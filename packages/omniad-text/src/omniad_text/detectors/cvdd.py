"""CVDD, context vector data description (``text.cvdd``; Ruff et al., ACL 2019).

The text is its sequence of frozen token vectors H (T x d): here the input token-embedding
table of the encoder named by ``embedding.model`` (MiniLM's by default), which plays the
role of the paper's pre-trained GloVe / fastText word vectors. A self-attention with r
heads, A = softmax_T(W2 tanh(W1 H^T)) (r x T), gives r text representations M = A H, and r
context vectors C are trained with it so that each head of a normal text points at its
context: the score is the mean over heads of the cosine distance 0.5 (1 - cos(m_k, c_k)).
An orthogonality penalty ||A A^T - I||^2 keeps the heads on different words.

Kept small and CPU-feasible, as the paper's model is: only W1 (d x a), W2 (a x r) and C
(r x d) are trained, on static token vectors (no encoder forward pass). Simplifications,
said here because they change the numbers: the heads are averaged with equal weight (the
paper anneals a softmax weighting), and the contexts start at the mean head
representation of the training texts (the paper runs spherical k-means++).

Saved: the trained arrays (safetensors) and the identity of the encoder whose token table
was used; ``load`` reads the table from that encoder again and refuses a different one.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from omniad.detector import Detector
from omniad.device import torch_cpu_threads
from omniad.errors import ConfigError, DataError, MissingDependencyError
from omniad.scores import Scores
from omniad_text.detectors.params import CVDDParams
from omniad_text.detectors.torch_utils import make_generator

NET = "net"


def build_net(d: int, attention: int, heads: int) -> Any:
    import torch
    import torch.nn as nn

    class ContextAttention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w1 = nn.Linear(d, attention, bias=False)
            self.w2 = nn.Linear(attention, heads, bias=False)
            self.contexts = nn.Parameter(torch.zeros(heads, d))

        def forward(self, h: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            logits = self.w2(torch.tanh(self.w1(h)))  # (B, T, r)
            logits = logits.masked_fill(~mask[:, :, None], float("-inf"))
            a = torch.softmax(logits, dim=1).transpose(1, 2)  # (B, r, T)
            return a @ h, a  # M: (B, r, d)

        def distances(self, m: torch.Tensor) -> torch.Tensor:
            cos = torch.nn.functional.cosine_similarity(m, self.contexts[None], dim=-1, eps=1e-8)
            return 0.5 * (1 - cos)  # (B, r)

    return ContextAttention()


def content_tokens(tokenizer: Any, vocab_size: int) -> np.ndarray:
    """Vocabulary mask of the tokens CVDD attends to: not special, not punctuation or digits, not a stop word.

    Ruff et al. remove stop words and punctuation before training; without that, every head
    learns to attend to tokens that every text has ("the", "."), all texts then map onto
    the contexts and the scores carry no information (AUROC 0.5 on BBC News). The stop
    words are scikit-learn's English list; word pieces ("##ing") are kept.
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


class TextCVDD(Detector):
    Params = CVDDParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.embedding_stats_: dict[str, Any] = {}
        self._table: Any = None
        self._tokenizer: Any = None
        self._content: np.ndarray = np.zeros(0, dtype=bool)

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
        self._table, self._tokenizer = table, tokenizer
        self._content = content_tokens(tokenizer, table.shape[0])
        self.embedding_stats_ = {"source": info.source, "model_identity": info.identity, "tokens": "input embeddings",
                                 "texts": 0, "truncated": 0, "empty_texts": 0}
        return info.identity

    def _token_ids(self, samples: Sequence[Any], step: str) -> list[list[int]]:
        from omniad_text.embeddings.texts import clean_texts

        clean = clean_texts(samples, f"{self.where}.{step}")
        limit = self.params.max_tokens
        enc = self._tokenizer(clean.texts, add_special_tokens=False, truncation=True, max_length=limit)
        ids = enc["input_ids"]
        encodings = getattr(enc, "encodings", None) or []
        unk = self._tokenizer.unk_token_id if isinstance(self._tokenizer.unk_token_id, int) else 0
        stats = self.embedding_stats_
        stats["texts"] += len(ids)
        stats["truncated"] += sum(1 for e in encodings if e.overflowing)
        stats["empty_texts"] += clean.empty
        keep = self._content
        # a text of stop words only keeps its tokens; an empty text is one unknown token
        return [[t for t in row if keep[t]] or list(row) or [unk] for row in ids]

    def _batches(self, ids: list[list[int]], order: Sequence[int]) -> Any:
        import torch

        for start in range(0, len(order), self.params.batch_size):
            chunk = list(order[start : start + self.params.batch_size])
            width = max(len(ids[i]) for i in chunk)
            tok = torch.zeros((len(chunk), width), dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.bool)
            for row, i in enumerate(chunk):
                tok[row, : len(ids[i])] = torch.as_tensor(ids[i])
                mask[row, : len(ids[i])] = True
            yield chunk, self._table[tok].to(self.device), mask.to(self.device)

    # -- Detector ------------------------------------------------------------------------
    def _fit(self, samples: Sequence[Any]) -> None:
        import torch

        p = self.params
        self.model_identity_ = self._load_encoder()
        ids = self._token_ids(samples, "fit")
        gen = make_generator(self.seed)
        with torch_cpu_threads(p.cpu_threads, self.device):
            torch.manual_seed(int(gen.initial_seed()))
            net = build_net(self._table.shape[1], p.attention_size, p.n_contexts).to(self.device)
            with torch.no_grad():  # contexts start at the mean head representation of the normal texts
                total = torch.zeros_like(net.contexts)
                for _, h, mask in self._batches(ids, range(len(ids))):
                    total += net(h, mask)[0].sum(dim=0)
                net.contexts.copy_(total / len(ids))
            opt = torch.optim.Adam(net.parameters(), lr=p.lr, weight_decay=p.weight_decay)
            eye = torch.eye(p.n_contexts, device=self.device)
            losses = []
            for _ in range(p.epochs):
                order = torch.randperm(len(ids), generator=gen).tolist()
                running = 0.0
                for chunk, h, mask in self._batches(ids, order):
                    m, a = net(h, mask)
                    penalty = ((a @ a.transpose(1, 2) - eye) ** 2).sum(dim=(1, 2)).mean()
                    loss = net.distances(m).mean() + p.orthogonality * penalty
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    running += float(loss.detach()) * len(chunk)
                losses.append(running / len(ids))
        self.net_ = net.eval()
        self.train_loss_ = np.asarray(losses, dtype=np.float64)

    def _score(self, samples: Sequence[Any]) -> Scores:
        import torch

        ids = self._token_ids(samples, "score")
        out = np.empty(len(ids))
        with torch.inference_mode():
            for chunk, h, mask in self._batches(ids, range(len(ids))):
                out[chunk] = self.net_.distances(self.net_(h, mask)[0]).mean(dim=1).double().cpu().numpy()
        if not np.all(np.isfinite(out)):
            raise DataError(f"{self.where}.score: CVDD produced NaN/inf scores; refit with a lower lr")
        return Scores(sample=out)

    # -- persistence ---------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        from omniad.torchstate import module_arrays

        return {"model_identity_": self.model_identity_, "train_loss_": self.train_loss_,
                "embedding_stats_": dict(self.embedding_stats_), **module_arrays(self.net_, NET)}

    def set_state(self, state: dict[str, Any]) -> None:
        from omniad.torchstate import load_module_arrays

        identity = self._load_encoder()
        if state.get("model_identity_") != identity:
            raise DataError(
                f"{self.where}.load: the model was trained on the token vectors of another encoder than "
                f"{self.params.embedding.model!r} (identity differs); load it with the encoder it was fitted with"
            )
        self.model_identity_ = identity
        self.train_loss_ = np.asarray(state["train_loss_"], dtype=np.float64)
        self.embedding_stats_ = dict(state.get("embedding_stats_") or self.embedding_stats_)
        net = build_net(self._table.shape[1], self.params.attention_size, self.params.n_contexts)
        load_module_arrays(net, state, NET)
        self.net_ = net.to(self.device).eval()
