"""The dataset contract: yield validated subsets; optionally draw examples for reports."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from omniad.component import Component
from omniad.data import Subset
from omniad.scores import Scores


class Dataset(Component, ABC):
    """Base class for every omniad dataset.

    ``iter_subsets`` is a generator so a large benchmark never needs all subsets in memory.
    """

    kind: ClassVar[str] = "dataset"
    #: whether ``validate`` insists that every test split contains anomalies.
    require_anomalies: ClassVar[bool] = True

    @abstractmethod
    def iter_subsets(self) -> Iterator[Subset]:
        """Yield subsets; each is validated by ``subsets`` before anyone uses it."""

    def subsets(self) -> Iterator[Subset]:
        name = self.component_id or type(self).__name__
        for subset in self.iter_subsets():
            yield subset.validate(name, require_anomalies=self.require_anomalies)

    def load(self) -> list[Subset]:
        return list(self.subsets())

    def render_examples(self, subset: Subset, scores: Scores, out_dir: Path, max_examples: int = 4) -> list[Path]:
        """Write a few pictures of samples with their scores for the HTML report.

        Modalities override this (heat-map overlays for images, score plots for series);
        the default writes nothing.
        """
        return []
