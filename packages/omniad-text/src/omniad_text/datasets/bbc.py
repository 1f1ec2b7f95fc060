"""BBC News (Greene & Cunningham, ICML 2006) through the one-vs-rest protocol (``text.bbc``).

2,225 articles in five categories (business, entertainment, politics, sport, tech), read
from ``bbc_news.csv`` (columns category,text) under ``root``, by default
``$OMNIAD_SHARED_DATA/data/bbc_news`` like the other shared benchmarks. The BBC anchors of
``docs/detectors.md`` use this exact protocol: each category normal in turn, 80/20 split.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from omniad.data import Subset
from omniad.errors import ConfigError
from omniad_text.datasets.base import TextDataset
from omniad_text.datasets.params import BBCParams, ReadingParams
from omniad_text.datasets.protocol import Corpus, load_corpus, one_vs_rest
from omniad_text.datasets.reading import SHARED_ENV, shared_data_root

FILE = "bbc_news.csv"


class BBC(TextDataset):
    Params = BBCParams

    def root(self) -> Path:
        root = Path(self.params.root).expanduser() if self.params.root else shared_data_root() / "data" / "bbc_news"
        if not (root / FILE).is_file():
            raise ConfigError(
                f"{self.where}: no {FILE} in {root}; set 'root' to the folder holding it or set {SHARED_ENV}"
            )
        return root

    def corpus(self) -> Corpus:
        path = self.root() / FILE
        return load_corpus(path, ReadingParams(format="csv"), "category", "category_column", f"{self.where}: {FILE}")

    def iter_subsets(self) -> Iterator[Subset]:
        yield from one_vs_rest(self.corpus(), self.params, self.where)
