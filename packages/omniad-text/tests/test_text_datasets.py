"""Text datasets: conformance of every loader, the one-vs-rest protocol on a hand-built table, the generator."""

from __future__ import annotations

import atexit
import csv
import json
import shutil
import tempfile
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from omniad.plugins import get_registry
from omniad.testing import DatasetConformance
from omniad_text.datasets.reading import shared_data_root

BBC_CSV = shared_data_root() / "data" / "bbc_news" / "bbc_news.csv"
needs_bbc = pytest.mark.skipif(not BBC_CSV.is_file(), reason=f"BBC News not found at {BBC_CSV} (set OMNIAD_SHARED_DATA)")

_TMP = Path(tempfile.mkdtemp(prefix="omniad-text-datasets-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)

#: the hand-built corpus: 10 texts of "a", 5 of "b", 5 of "c", interleaved in file order
ROWS = [("a" if i % 2 == 0 else ("b" if i % 4 == 1 else "c"), f"text number {i}") for i in range(20)]


def write_csv(path: Path, rows: list[tuple[str, str]], header: tuple[str, str] = ("category", "text")) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


HAND = write_csv(_TMP / "hand.csv", ROWS)


def dataset(dataset_id: str, **params: object):
    return get_registry().get("dataset", dataset_id).create(params)


class TestSyntheticConformance(DatasetConformance):
    dataset_id = "text.synthetic"
    params: ClassVar = {"n_train": 20, "n_test_normal": 6, "n_test_anomalous": 6, "n_subsets": 2}


class TestOneVsRestConformance(DatasetConformance):
    dataset_id = "text.one_vs_rest"
    params: ClassVar = {"path": str(HAND)}


class TestTableConformance(DatasetConformance):
    dataset_id = "text.table"
    params: ClassVar = {"path": str(HAND), "category_column": "category", "normal_categories": ["a"]}


@needs_bbc
class TestBBCConformance(DatasetConformance):
    dataset_id = "text.bbc"
    params: ClassVar = {"max_per_category": 30, "categories": ["sports", "tech"]}


def test_one_vs_rest_exact_composition() -> None:
    subsets = dataset("text.one_vs_rest", path=str(HAND)).load()
    assert [s.name for s in subsets] == ["a", "b", "c"]
    row_category = {f"row-{i + 1}": c for i, (c, _) in enumerate(ROWS)}
    for key, subset in enumerate(subsets):
        normal_ids = [f"row-{i + 1}" for i, (c, _) in enumerate(ROWS) if c == subset.name]
        n_train = round(0.8 * len(normal_ids))
        # the documented rule: generator (seed, purpose=split, category index) permutes the category's rows
        order = np.random.default_rng([0, 1, key]).permutation(len(normal_ids))
        expected_train = sorted((normal_ids[i] for i in order[:n_train]), key=lambda s: int(s[4:]))
        assert list(subset.train.ids) == expected_train
        test_ids = list(subset.test.ids)
        assert set(test_ids) == (set(row_category) - set(expected_train)), "test = rest of the class + every other text"
        assert test_ids == sorted(test_ids, key=lambda s: int(s[4:])), "test rows keep the file order"
        for sid, label in zip(test_ids, subset.test.labels, strict=True):
            assert label == int(row_category[sid] != subset.name)
        assert [row_category[i] for i in subset.train.ids] == [subset.name] * n_train
        assert subset.train.samples == [ROWS[int(i[4:]) - 1][1] for i in subset.train.ids]
        assert subset.meta["n_test_anomalous"] == 20 - len(normal_ids)
        assert sum(subset.meta["anomalies_per_category"].values()) == 20 - len(normal_ids)
        assert subset.name not in subset.meta["anomalies_per_category"]
    assert len(subsets[0].train) == 8 and len(subsets[0].test) == 12
    assert len(subsets[1].train) == 4 and len(subsets[1].test) == 16


def test_one_vs_rest_seeds_and_categories() -> None:
    a0 = dataset("text.one_vs_rest", path=str(HAND), seed=0).load()[0]
    a1 = dataset("text.one_vs_rest", path=str(HAND), seed=1).load()[0]
    assert a0.train.ids != a1.train.ids, "another seed draws another split"
    only_a = dataset("text.one_vs_rest", path=str(HAND), categories=["a"]).load()
    assert [s.name for s in only_a] == ["a"] and only_a[0].train.ids == a0.train.ids, (
        "choosing categories does not change a category's split"
    )


def test_one_vs_rest_contamination_samples_anomalies() -> None:
    subset = dataset("text.one_vs_rest", path=str(HAND), contamination=0.5).load()[0]
    assert subset.test.n_anomalous == 2 and len(subset.test) == 4  # 2 normal test texts, half the test anomalous
    again = dataset("text.one_vs_rest", path=str(HAND), contamination=0.5).load()[0]
    assert again.test.ids == subset.test.ids
    small = dataset("text.one_vs_rest", path=str(HAND), contamination=0.2).load()[0]
    assert small.test.n_anomalous == 1  # round(0.2 * 2 / 0.8) = 0.5 -> at least one


def test_table_with_labels_and_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    rows = [{"body": f"normal text {i}", "y": "0", "name": f"n{i}"} for i in range(10)]
    rows += [{"body": f"odd text {i}", "y": 1, "name": f"x{i}"} for i in range(3)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (subset,) = dataset("text.table", path=str(path), text_column="body", label_column="y", id_column="name").load()
    assert len(subset.train) == 8 and subset.test.n_anomalous == 3 and len(subset.test) == 5
    assert all(i.startswith("n") for i in subset.train.ids)
    assert sorted(i for i, y in zip(subset.test.ids, subset.test.labels, strict=True) if y) == ["x0", "x1", "x2"]


def test_table_parquet(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"category": [c for c, _ in ROWS], "text": [t for _, t in ROWS]}), path)
    from_parquet = dataset("text.one_vs_rest", path=str(path)).load()
    from_csv = dataset("text.one_vs_rest", path=str(HAND)).load()
    for a, b in zip(from_parquet, from_csv, strict=True):
        assert a.train.samples == b.train.samples and a.test.samples == b.test.samples


def test_synthetic_is_seeded_and_mixes_anomaly_kinds() -> None:
    a = dataset("text.synthetic", seed=3).load()[0]
    b = dataset("text.synthetic", seed=3).load()[0]
    c = dataset("text.synthetic", seed=4).load()[0]
    assert a.train.samples == b.train.samples and a.train.samples != c.train.samples
    assert a.meta["anomaly_kinds"] == {"cooking": 7, "finance": 8, "garbled": 5}
    assert all(isinstance(t, str) and t.strip() for t in [*a.train.samples, *a.test.samples])


@needs_bbc
def test_bbc_protocol_sizes() -> None:
    subsets = dataset("text.bbc").load()
    assert [s.name for s in subsets] == ["business", "entertainment", "politics", "sports", "tech"]
    for s in subsets:
        n = s.meta["n_train"] + s.meta["n_test_normal"]
        assert s.meta["n_train"] == round(0.8 * n)
        assert len(s.train) + len(s.test) == 2225
