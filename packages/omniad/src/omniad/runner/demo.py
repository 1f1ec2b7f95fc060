"""``omniad demo``: the shared runner over every installed plugin's built-in demo data.

Each modality contributes its ``demo=True`` datasets and detectors (small synthetic data,
no downloads); the grid pairs them by modality, so installing a plugin is enough for it to
appear in the demo table. A component whose optional dependency is missing (with its demo
parameters) is left out, and ``notes`` says which and what to install, so the demo of the
rest still runs.
"""

from __future__ import annotations

from pathlib import Path

from omniad.errors import ConfigError
from omniad.registry import Entry, Registry
from omniad.runner.config import ComponentSpec, RunConfig


def _usable(entries: list[Entry], notes: list[str]) -> list[Entry]:
    out = []
    for entry in entries:
        try:
            problem = entry.requirement_problem(entry.validate_params(dict(entry.card.demo_params)))
        except ConfigError as exc:  # a card whose demo parameters do not validate: a plugin bug, said
            problem = str(exc)
        if problem is None:
            out.append(entry)
        else:
            notes.append(f"left out of the demo: {problem}")
    return out


def demo_config(registry: Registry, output_dir: Path, modality: str | None = None,
                notes: list[str] | None = None) -> RunConfig:
    """The demo grid; what had to be left out is appended to ``notes`` (one line each)."""
    notes = [] if notes is None else notes
    datasets = _usable([e for e in registry.list("dataset", modality=modality) if e.card.demo], notes)
    modalities = {e.card.modality for e in datasets}
    detectors = _usable([e for e in registry.list("detector") if e.card.demo and e.card.modality in modalities],
                        notes)
    if not detectors or not datasets:
        raise ConfigError("no demo can run: " + ("; ".join(n.removeprefix("left out of the demo: ") for n in notes)
                                                 or "no installed plugin has demo components"
                                                 + (f" for modality {modality!r}" if modality else "")))
    return RunConfig(
        name="omniad demo",
        output_dir=output_dir,
        detectors=[ComponentSpec(id=e.id, params=dict(e.card.demo_params), name=e.id) for e in detectors],
        datasets=[ComponentSpec(id=e.id, params=dict(e.card.demo_params), name=e.id) for e in datasets],
        seeds=[0],
        examples=2,  # a hit and a false alarm (omniad.dataset.pick_examples) per subset drawn
        rerun="all",
    )
