"""Text datasets on bad input: one clear error, or a repair that is counted in ``Subset.meta``."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from omniad.errors import ConfigError, DataError
from omniad.plugins import get_registry


def create(dataset_id: str, **params: object):
    return get_registry().get("dataset", dataset_id).create(params)


def write(path: Path, rows: list[tuple[str, str]], header: tuple[str, str] = ("category", "text")) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def corpus(n_per: int = 6) -> list[tuple[str, str]]:
    return [(c, f"{c} text {i}") for c in ("x", "y") for i in range(n_per)]


def test_missing_text_column_lists_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", corpus(), header=("category", "body"))
    with pytest.raises(DataError, match=r"no column 'text' \(columns: \['category', 'body'\]\); set 'text_column'"):
        create("text.one_vs_rest", path=str(path)).load()


def test_missing_category_column(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", corpus(), header=("topic", "text"))
    with pytest.raises(DataError, match="no column 'category'.*set 'category_column'"):
        create("text.one_vs_rest", path=str(path)).load()


def test_empty_texts_dropped_and_counted(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", [*corpus(), ("x", ""), ("y", "   \n\t"), ("", "no category")])
    subsets = create("text.one_vs_rest", path=str(path)).load()
    assert subsets[0].meta["empty_texts_dropped"] == 2 and subsets[0].meta["rows_without_category"] == 1
    assert all(t.strip() for s in subsets for t in [*s.train.samples, *s.test.samples])
    with pytest.raises(DataError, match="row 13 has an empty text in 'text'"):
        create("text.one_vs_rest", path=str(path), empty_texts="error").load()


def test_non_utf8_is_replaced_and_counted(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", corpus())
    data = path.read_bytes().replace(b"x text 0", b"x caf\xe9 0").replace(b"y text 1", b"y \xff\xfe 1")
    path.write_bytes(data)
    subsets = create("text.one_vs_rest", path=str(path)).load()
    assert subsets[0].meta["replaced_chars"] == 3 and subsets[0].meta["texts_with_replacements"] == 2
    assert any("caf\ufffd" in t for t in [*subsets[0].train.samples, *subsets[0].test.samples])
    latin = create("text.one_vs_rest", path=str(path), encoding="latin-1").load()
    assert latin[0].meta["replaced_chars"] == 0


def test_mostly_undecodable_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"category,text\n" + b"x,\xff\xfe\xfd\xfc\xfb\xfa\xf9\n" * 20)
    with pytest.raises(DataError, match="do not decode as utf-8; set 'encoding'"):
        create("text.one_vs_rest", path=str(path)).load()


def test_category_too_small_for_split(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", [*corpus(), ("z", "lonely text")])
    with pytest.raises(DataError, match="normal class 'z' has 1 texts, too few for a train/test split"):
        create("text.one_vs_rest", path=str(path)).load()
    # the other categories are still usable by choosing them
    assert [s.name for s in create("text.one_vs_rest", path=str(path), categories=["x", "y"]).load()] == ["x", "y"]


def test_unknown_category_and_too_much_contamination(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", corpus())
    with pytest.raises(ConfigError, match=r"categories \['q'\] are not in the data \(categories: \['x', 'y'\]\)"):
        create("text.one_vs_rest", path=str(path), categories=["q"]).load()
    with pytest.raises(DataError, match="contamination=0.9 needs 9 anomalies beside 1 normal"):
        create("text.one_vs_rest", path=str(path), contamination=0.9).load()


def test_table_param_rules_and_bad_labels(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", [("0", "a"), ("1", "b"), ("maybe", "c")], header=("label", "text"))
    with pytest.raises(ConfigError, match="exactly one of label_column"):
        create("text.table", path=str(path))
    with pytest.raises(ConfigError, match="category_column needs normal_categories"):
        create("text.table", path=str(path), category_column="label")
    with pytest.raises(DataError, match="label 'maybe' is not 0/1"):
        create("text.table", path=str(path), label_column="label").load()


def test_missing_file_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a file"):
        create("text.one_vs_rest", path=str(tmp_path / "nope.csv")).load()
    odd = write(tmp_path / "t.txt", corpus())
    with pytest.raises(ConfigError, match="set format='csv'"):
        create("text.one_vs_rest", path=str(odd)).load()
    assert create("text.one_vs_rest", path=str(odd), format="csv").load()
    with pytest.raises(ConfigError, match="unknown encoding"):
        create("text.one_vs_rest", path=str(odd), encoding="utf-99")


def test_bad_jsonl_line(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"category": "x", "text": "fine"}\n[1, 2]\n')
    with pytest.raises(DataError, match="line 2 is a JSON list, not an object"):
        create("text.one_vs_rest", path=str(path)).load()


def test_bbc_missing_root(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no bbc_news.csv in .*set 'root'"):
        create("text.bbc", root=str(tmp_path)).load()
