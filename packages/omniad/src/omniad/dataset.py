"""The dataset contract: yield validated subsets; optionally draw examples for reports."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from omniad.component import Component
from omniad.data import Split, Subset
from omniad.errors import ConfigError
from omniad.scores import Scores

if TYPE_CHECKING:
    from omniad.decision import Decisions


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

    # -- own data: naming elements, pictures of decisions, state shared by fit and score ----
    def element_columns(self, split: Split, index: int, n_elements: int) -> dict[str, Sequence[Any]] | None:
        """How the elements of sample ``index`` are named in the user's terms: column -> one value each.

        A series names its timesteps (timestamp, row), a log its lines (file, line number,
        raw line, template), a video its frames. The default is the position. Return None
        where elements are not table rows (pixels: the maps are written as files instead).
        """
        return {"element": np.arange(n_elements)}

    def render_results(self, split: Split, decisions: Decisions, out_dir: Path, max_items: int = 8) -> list[Path]:
        """Pictures of the decisions people read first (flagged ranges, ranked lines, outlined regions...).

        ``decisions`` holds the scores, the 0/1 calls per sample and element and the
        thresholds. The default writes nothing; each modality draws its own.
        """
        return []

    def export_source_state(self) -> dict[str, Any] | None:
        """What reading the fit data learned that reading new data must reuse (a log parser's templates).

        Saved inside the model (JSON), handed back through ``import_source_state`` when the
        model scores a new file, so both are read the same way. Default: nothing.
        """
        return None

    def import_source_state(self, state: dict[str, Any]) -> None:
        """Reuse what the fit data's reading learned; see ``export_source_state``."""
        raise ConfigError(f"{self.where} keeps no state between reading fit and score data, but the model holds some; "
                          "the model was fitted with another version of this loader")
