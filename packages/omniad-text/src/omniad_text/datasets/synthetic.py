"""A small seeded text corpus for tests and the demo (``text.synthetic``): no files, no model.

Each topic has its own vocabulary; a text is a run of words drawn mostly from its topic's
vocabulary, with common words between them, so any embedding that sees words separates
topics. Anomalies are texts of another topic (the one-vs-rest situation of BBC News) and,
with ``garbled_fraction``, normal-topic texts whose letters are scrambled (encoding junk,
OCR noise). Subset ``k`` takes topic ``k`` as normal.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from omniad.data import Split, Subset
from omniad_text.datasets.base import TextDataset
from omniad_text.datasets.params import SyntheticParams

TOPICS: dict[str, tuple[str, ...]] = {
    "sport": ("match", "goal", "team", "coach", "league", "season", "striker", "keeper", "penalty", "referee",
              "stadium", "fans", "cup", "final", "score", "win", "defeat", "player", "transfer", "training"),
    "finance": ("market", "shares", "profit", "bank", "investor", "stock", "dividend", "inflation", "rates",
                "bond", "earnings", "revenue", "quarter", "economy", "trade", "growth", "loan", "debt", "fund",
                "currency"),
    "cooking": ("recipe", "oven", "flour", "butter", "garlic", "onion", "sauce", "simmer", "bake", "pepper",
                "salt", "dough", "roast", "pan", "herbs", "tomato", "cheese", "soup", "dessert", "spoon"),
    "weather": ("rain", "storm", "cloud", "wind", "forecast", "temperature", "snow", "sunshine", "humidity",
                "thunder", "frost", "fog", "pressure", "showers", "heatwave", "breeze", "drizzle", "flood", "ice",
                "degrees"),
    "computing": ("software", "server", "network", "code", "database", "chip", "laptop", "internet", "browser",
                  "memory", "processor", "cloud", "app", "developer", "update", "security", "password", "data",
                  "algorithm", "screen"),
}
COMMON = ("the", "a", "and", "of", "in", "on", "with", "after", "before", "this", "that", "was", "is", "for",
          "new", "big", "last", "first", "very", "more")


def sentence(rng: np.random.Generator, vocabulary: tuple[str, ...], n_words: int) -> str:
    words = [str(rng.choice(vocabulary)) if rng.random() < 0.6 else str(rng.choice(COMMON)) for _ in range(n_words)]
    return " ".join(words).capitalize() + "."


def garble(rng: np.random.Generator, text: str) -> str:
    """The same letters per word, in a random order (the word lengths survive, the words do not)."""
    return " ".join("".join(rng.permutation(list(w))) for w in text.split())


class Synthetic(TextDataset):
    Params = SyntheticParams

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        names = list(TOPICS)[: p.n_topics]
        for k in range(p.n_subsets):
            yield self._subset(k, names)

    def _subset(self, k: int, names: list[str]) -> Subset:
        p = self.params
        rng = np.random.default_rng([p.seed, k])
        normal = names[k]
        others = [n for n in names if n != normal]

        def text(topic: str) -> str:
            return sentence(rng, TOPICS[topic], int(rng.integers(p.min_words, p.max_words + 1)))

        train = [text(normal) for _ in range(p.n_train)]
        n_garbled = round(p.garbled_fraction * p.n_test_anomalous)
        anomalies = [(others[i % len(others)], text(others[i % len(others)])) for i in range(p.n_test_anomalous - n_garbled)]
        anomalies += [("garbled", garble(rng, text(normal))) for _ in range(n_garbled)]
        rows = [(normal, text(normal), 0) for _ in range(p.n_test_normal)] + [(kind, t, 1) for kind, t in anomalies]
        order = rng.permutation(len(rows))
        rows = [rows[i] for i in order]
        kinds: dict[str, int] = {}
        for kind, _, label in rows:
            if label:
                kinds[kind] = kinds.get(kind, 0) + 1
        return Subset(
            name=normal,
            train=Split(samples=train, labels=np.zeros(len(train), np.int8), ids=[f"train-{i}" for i in range(len(train))]),
            test=Split(samples=[t for _, t, _ in rows], labels=np.array([y for *_, y in rows], np.int8),
                       ids=[f"test-{i}-{kind}" for i, (kind, _, _) in enumerate(rows)]),
            meta={"normal_topic": normal, "anomaly_kinds": dict(sorted(kinds.items())), "seed": p.seed},
        )
