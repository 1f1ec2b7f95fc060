"""The dataset contract: yield validated subsets; optionally draw examples for reports."""

from __future__ import annotations

import re
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
    from omniad.watch.stream import Streamer

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: a file suffix at the end of a sample id: a dot, a letter, then up to four letters or digits
_FILE_SUFFIX = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,4}$")


def picture_name(text: str, limit: int = 80) -> str:
    """``text`` as a file-name part: runs of unsafe characters become ``_``, at most ``limit`` characters."""
    return _UNSAFE.sub("_", str(text)).strip("._")[-limit:] or "sample"


def sample_stem(sample_id: str) -> str:
    """A sample id without its file suffix (``good/003.png`` -> ``good/003``), for naming files drawn of it."""
    return _FILE_SUFFIX.sub("", str(sample_id)) or str(sample_id)


def example_filename(subset: str, sample_id: str, suffix: str = ".png") -> str:
    """The file name of a report picture of one sample: ``<subset>_<sample>.png``.

    The sample id's own file suffix is dropped, so the image ``good/003.png`` is drawn as
    ``<subset>_good_003.png``, not ``..._003.png.png``; a sample named like its subset (one
    series per subset) is drawn as ``<sample>.png``. The report's captions read the sample
    back from this name.
    """
    sample = picture_name(sample_stem(sample_id))
    prefix = picture_name(subset)
    return f"{sample}{suffix}" if sample == prefix else f"{prefix}_{sample}{suffix}"


def pick_examples(labels: Sequence[int] | np.ndarray | None, scores: Sequence[float] | np.ndarray,
                  max_examples: int) -> list[int]:
    """Which test samples a report draws: the top-scored anomaly, the top-scored normal sample
    (the worst false alarm), the worst-missed anomaly, then the next of each in turn, no repeats.

    Normal samples come second so that even two pictures show a false alarm as well as a hit;
    without labels the samples are taken by score.
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    truth = np.zeros(len(s), dtype=np.int8) if labels is None else np.asarray(labels).reshape(-1)
    order = [int(i) for i in np.argsort(-s, kind="stable")]
    anomalous = [i for i in order if truth[i]]
    queues = [anomalous, [i for i in order if not truth[i]], anomalous[::-1]]
    picked: list[int] = []
    seen: set[int] = set()
    while len(picked) < min(max_examples, len(s)) and any(queues):
        for queue in queues:
            while queue and queue[0] in seen:
                queue.pop(0)
            if queue and len(picked) < max_examples:
                seen.add(queue[0])
                picked.append(queue.pop(0))
    return picked


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
        the default writes nothing. ``pick_examples`` chooses samples that show hits and
        false alarms alike, ``example_filename`` names their files.
        """
        return []

    # -- own data: naming elements, pictures of decisions, state shared by fit and score ----
    def element_columns(self, split: Split, index: int, n_elements: int) -> dict[str, Sequence[Any]] | None:
        """How the elements of sample ``index`` are named in the user's terms: column -> one value each.

        A series names its timesteps (timestamp, row), a log its lines (file, line number,
        raw line, template), a video its frames. The default is the position. Return None
        where elements are not table rows (pixels: the maps are written as files instead).
        """
        return {"element": np.arange(n_elements).tolist()}

    def sample_columns(self, split: Split, index: int) -> dict[str, Any]:
        """Extra columns of sample ``index`` in the samples table, in the user's terms (a text's first words).

        Default: none; the sample's id already names it.
        """
        return {}

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

    # -- live data -------------------------------------------------------------------------
    def watcher(self, detector: Any, options: dict[str, Any], say: Any) -> Streamer:
        """A streamer scoring this loader's kind of input line by line with a fitted ``detector`` (``omniad watch``).

        Called on the loader the model was fitted through, with the source state it saved
        (a log parser, a table's columns), so live lines are read exactly as the fit data
        was. ``options`` are the user's ``--set`` values; validate them and name the bad one.
        """
        raise ConfigError(f"{self.where}: data read by this loader cannot be watched live; `omniad watch` follows "
                          "raw logs (logs.loghub, logs.bgl, logs.hdfs) and series tables (timeseries.table)")
