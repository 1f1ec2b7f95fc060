"""Report pictures: per-line scores of a few test sessions, true anomalous lines marked, top lines' text.

matplotlib is imported here only, and only when a report asks for pictures. Without it no
pictures are written and nothing fails; a single warning per process says why the report
has no log pictures (an empty gallery otherwise looks like a run that drew nothing).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from omniad.data import Subset
from omniad.dataset import example_filename
from omniad.scores import Scores

TOP_LINES = 5
TEXT_CHARS = 110
_warned = False


def _plain(text: str) -> str:
    """Log text as matplotlib shows it literally (``$`` would start math mode: dfs.DataNode$PacketResponder)."""
    return text.replace("$", r"\$")


def _pick(subset: Subset, scores: Scores, max_examples: int) -> list[int]:
    """The highest-scored anomalous and normal test sessions, alternating (both kinds shown)."""
    labels = subset.test.labels if subset.test.labels is not None else np.zeros(len(subset.test), dtype=np.int8)
    order = np.argsort(-scores.sample, kind="stable")
    anomalous = [int(i) for i in order if labels[i]]
    normal = [int(i) for i in order if not labels[i]]
    out: list[int] = []
    while len(out) < max_examples and (anomalous or normal):
        for pool in (anomalous, normal):
            if pool and len(out) < max_examples:
                out.append(pool.pop(0))
    return out


def render_examples(subset: Subset, scores: Scores, out_dir: Path, max_examples: int = 4) -> list[Path]:
    """One PNG per chosen test session (up to ``max_examples``); empty list when matplotlib is missing."""
    global _warned
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        if not _warned:
            warnings.warn("matplotlib is not installed, so the report has no log pictures; "
                          "pip install 'omniad-logs[plots]'", stacklevel=2)
            _warned = True
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = subset.test.targets
    paths: list[Path] = []
    for i in _pick(subset, scores, max_examples):
        session = subset.test.samples[i]
        n = len(session)
        local = None if scores.local is None else np.asarray(scores.local[i], dtype=np.float64).reshape(-1)
        if local is not None and local.size != n:
            local = None  # a detector bug would have been caught by Scores.validate; draw what is sound
        truth = None if targets is None else np.asarray(targets[i]).reshape(-1)
        fig, (ax, text_ax) = plt.subplots(2, 1, figsize=(11, 5.2), gridspec_kw={"height_ratios": [2, 1.3]})
        x = np.arange(n)
        if local is not None:
            ax.plot(x, local, color="tab:red", lw=0.9, marker="." if n <= 200 else None, ms=3)
            ax.set_ylabel("line score")
        else:
            ax.set_yticks([])
            ax.text(0.5, 0.5, "no per-line scores from this detector", transform=ax.transAxes, ha="center",
                    color="grey")
        if truth is not None:
            for j in np.flatnonzero(truth > 0):
                ax.axvspan(j - 0.5, j + 0.5, color="tab:orange", alpha=0.3, lw=0)
        ax.set_xlim(-0.5, max(n - 0.5, 0.5))
        ax.set_xlabel("line in session")
        name = subset.test.sample_id(i)
        label = "" if subset.test.labels is None else (" anomalous" if subset.test.labels[i] else " normal")
        ax.set_title(_plain(f"{subset.name}: {name}{label}, {n} lines (session score {scores.sample[i]:.3g}); "
                     "orange = true anomalous lines"), fontsize=9)
        text_ax.axis("off")
        rank = np.argsort(-local, kind="stable")[:TOP_LINES] if local is not None else np.arange(min(n, TOP_LINES))
        rows = []
        for j in rank:
            text = session.lines[j] if session.lines is not None else session.template(int(j))
            text = text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 3] + "..."
            mark = "*" if truth is not None and truth[j] else " "
            score = f"{local[j]:8.3g}" if local is not None else "        "
            rows.append(_plain(f"{mark} line {int(j):4d} {score}  [{session.events[j]}] {text}"))
        text_ax.text(0, 1, ("top lines by score (* = truly anomalous):\n" if local is not None else "first lines:\n")
                     + "\n".join(rows), va="top", ha="left", family="monospace", fontsize=7.5,
                     transform=text_ax.transAxes)
        fig.tight_layout()
        path = out_dir / example_filename(subset.name, name)
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths
