"""Pictures: the series, the detector's per-timestep score, true anomalies shaded.

``render_series`` draws the runner's report examples; ``render_decisions`` the pictures of
``omniad score`` (the flagged ranges shaded, the element threshold drawn on the score panel,
time on the x axis where the file had timestamps). matplotlib is imported here only, and
only when pictures are asked for; without it none are drawn (``render_decisions`` warns).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from omniad.data import Split, Subset
from omniad.dataset import example_filename, pick_examples, picture_name, sample_stem
from omniad.scores import Scores

if TYPE_CHECKING:
    from omniad.decision import Decisions

MAX_CHANNELS_DRAWN = 6


def _ranges(labels: np.ndarray) -> list[tuple[int, int]]:
    """Half-open [start, end) runs of 1s."""
    padded = np.r_[0, (np.asarray(labels) > 0).astype(np.int8), 0]
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def render_series(subset: Subset, scores: Scores, out_dir: Path, max_examples: int = 4) -> list[Path]:
    """One PNG per chosen test series (up to ``max_examples``, ``pick_examples``); empty list without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    targets = subset.test.targets or [None] * len(subset.test)
    for i in pick_examples(subset.test.labels, scores.sample, max_examples):
        x = np.asarray(subset.test.samples[i], dtype=np.float64)
        x = x[:, None] if x.ndim == 1 else x
        local = None if scores.local is None else np.asarray(scores.local[i], dtype=np.float64)
        fig, axes = plt.subplots(2 if local is not None else 1, 1, figsize=(11, 4.2), sharex=True, squeeze=False)
        ax = axes[0, 0]
        for c in range(min(x.shape[1], MAX_CHANNELS_DRAWN)):
            ax.plot(x[:, c], lw=0.7)
        ax.set_ylabel("value")
        name = subset.test.sample_id(i)
        label = "" if subset.test.labels is None else (" anomalous" if subset.test.labels[i] else " normal")
        ax.set_title(f"{subset.name}: {name}{label} (sample score {scores.sample[i]:.3g})", fontsize=9)
        if local is not None:
            axes[1, 0].plot(local, color="tab:red", lw=0.8)
            axes[1, 0].set_ylabel("score")
            axes[1, 0].set_xlabel("timestep")
        if targets[i] is not None:
            for start, end in _ranges(targets[i]):
                for row in axes[:, 0]:
                    row.axvspan(start, end, color="tab:orange", alpha=0.25, lw=0)
        fig.tight_layout()
        path = out_dir / example_filename(subset.name, name)
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _spans(ax: Any, x: np.ndarray, mask: np.ndarray, **style: Any) -> None:
    """Shade the runs of ``mask`` on ``ax``, from the run's first x to the x after its last."""
    step = x[-1] - x[-2] if len(x) > 1 else 1
    for start, end in _ranges(mask):
        ax.axvspan(x[start], x[end] if end < len(x) else x[-1] + step, lw=0, **style)


def render_decisions(split: Split, decisions: Decisions, out_dir: Path, max_items: int = 8) -> list[Path]:
    """One PNG per series (the top-scored first; hits and false alarms where labelled): flagged timesteps shaded.

    Top panel: the series (up to ``MAX_CHANNELS_DRAWN`` channels), flagged ranges in red, labelled
    anomalies (where known) as an orange band. Bottom panel: the per-timestep score with the
    element threshold as a dashed line. The x axis is time where the file had timestamps.
    """
    plt = _pyplot()
    if plt is None:
        warnings.warn("series pictures not drawn: matplotlib is not installed (pip install "
                      "'omniad-timeseries[plots]')", stacklevel=2)
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    scores = decisions.scores
    stamps = split.meta.get("timestamps") or [None] * len(split)
    paths: list[Path] = []
    for i in pick_examples(split.labels, scores.sample, max_items):
        x = np.asarray(split.samples[i], dtype=np.float64)
        x = x[:, None] if x.ndim == 1 else x
        time = stamps[i] if stamps[i] is not None and len(stamps[i]) == len(x) else np.arange(len(x))
        local = None if scores.local is None else np.asarray(scores.local[i], dtype=np.float64)
        flagged = None if decisions.element is None else np.asarray(decisions.element[i])
        fig, axes = plt.subplots(2 if local is not None else 1, 1, figsize=(11, 4.4), sharex=True, squeeze=False)
        top = axes[0, 0]
        channels = split.meta.get("channels") or []
        for c in range(min(x.shape[1], MAX_CHANNELS_DRAWN)):
            top.plot(time, x[:, c], lw=0.7, label=str(channels[c]) if c < len(channels) else None)
        if x.shape[1] > 1 and channels:
            top.legend(fontsize=7, loc="upper left")
        top.set_ylabel("value")
        if flagged is not None and flagged.any():
            for ax in axes[:, 0]:
                _spans(ax, time, flagged, color="tab:red", alpha=0.22)
        if split.targets is not None:
            _spans(top, time, np.asarray(split.targets[i]), color="tab:orange", alpha=0.35, ymax=0.06)
        decided = "" if decisions.sample is None else (" flagged" if decisions.sample[i] else " normal")
        n_flagged = "" if flagged is None else f"; {int(flagged.sum())} of {len(flagged)} timesteps flagged (red)"
        truth = "" if split.targets is None else "; labelled anomalies: orange band"
        top.set_title(f"{split.sample_id(i)}:{decided} (score {scores.sample[i]:.4g}){n_flagged}{truth}", fontsize=9)
        if local is not None:
            bottom = axes[1, 0]
            bottom.plot(time, local, color="black", lw=0.7)
            if decisions.element_threshold is not None:
                bottom.axhline(decisions.element_threshold, color="tab:red", ls="--", lw=1,
                               label=f"threshold {decisions.element_threshold:.4g}")
                bottom.legend(fontsize=7, loc="upper left")
            bottom.set_ylabel("score")
            bottom.set_xlabel("time" if stamps[i] is not None else "row")
        if stamps[i] is not None:
            fig.autofmt_xdate()
        fig.tight_layout()
        path = out_dir / f"{picture_name(sample_stem(split.sample_id(i)))}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths
