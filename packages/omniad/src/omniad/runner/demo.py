"""``omniad demo``: the shared runner over every installed plugin's built-in demo data.

Each modality contributes its ``demo=True`` datasets and detectors (small synthetic data,
no downloads); the grid pairs them by modality, so installing a plugin is enough for it to
appear in the demo table.
"""

from __future__ import annotations

from pathlib import Path

from omniad.registry import Registry
from omniad.runner.config import ComponentSpec, RunConfig


def demo_config(registry: Registry, output_dir: Path, modality: str | None = None) -> RunConfig:
    datasets = [e for e in registry.list("dataset", modality=modality) if e.card.demo]
    modalities = {e.card.modality for e in datasets}
    detectors = [e for e in registry.list("detector") if e.card.demo and e.card.modality in modalities]
    return RunConfig(
        name="omniad demo",
        output_dir=output_dir,
        detectors=[ComponentSpec(id=e.id, params=dict(e.card.demo_params), name=e.id) for e in detectors],
        datasets=[ComponentSpec(id=e.id, params=dict(e.card.demo_params), name=e.id) for e in datasets],
        seeds=[0],
        examples=1,
        rerun="all",
    )
