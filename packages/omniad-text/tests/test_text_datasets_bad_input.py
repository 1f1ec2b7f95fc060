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
    with pytest.raises(
        DataError, match=r"no column 'text' \(columns: \['category', 'body'\]\); set 'text_column'"
    ):
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
    assert [s.name for s in create("text.one_vs_rest", path=str(path), categories=["x", "y"]).load()] == [
        "x",
        "y",
    ]


def test_unknown_category_and_too_much_contamination(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", corpus())
    with pytest.raises(
        ConfigError, match=r"categories \['q'\] are not in the data \(categories: \['x', 'y'\]\)"
    ):
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


def latin1_corpus(path: Path) -> Path:
    """A Latin-1 file read as UTF-8: 'café' and 'naïve' do not decode (one character each)."""
    rows = [("x", f"x café {i}") for i in range(6)] + [("y", f"y naïve {i}") for i in range(3)]
    rows += [("y", f"y plain {i}") for i in range(3)] + [("x", "")]
    with path.open("w", newline="", encoding="latin-1") as f:
        w = csv.writer(f)
        w.writerow(("category", "text"))
        w.writerows(rows)
    return path


def test_repairs_are_counts_in_meta_and_warned_once_per_subset(tmp_path: Path) -> None:
    """Repairs reach the run record through ``Subset.meta["counts"]`` (the core copies the non-zero ones)."""
    from omniad.runner.notes import subset_counts
    from omniad_text.datasets.reading import TextRepairWarning

    path = latin1_corpus(tmp_path / "t.csv")
    with pytest.warns(TextRepairWarning) as caught:
        subsets = create("text.one_vs_rest", path=str(path)).load()
    assert len([w for w in caught if issubclass(w.category, TextRepairWarning)]) == 2  # one per subset
    assert "subset 'x': reading repaired or dropped: empty_texts_dropped 1, replaced_chars 9" in str(
        caught[0].message
    )
    x, y = subsets
    # every text of the file is in both subsets here (one-vs-rest), so both count all 9 repaired texts
    assert x.meta["counts"] == {
        "empty_texts_dropped": 1,
        "rows_without_category": 0,
        "replaced_chars": 9,
        "texts_with_replacements": 9,
    }
    assert subset_counts(y.meta) == {
        "empty_texts_dropped": 1,
        "replaced_chars": 9,
        "texts_with_replacements": 9,
    }
    assert x.meta["replaced_chars"] == 9 and x.meta["empty_texts_dropped"] == 1  # the old keys stay
    # a subset that never sees a repaired text says 0: contamination keeps only some anomalies
    table = create(
        "text.table",
        path=str(path),
        category_column="category",
        normal_categories=["y"],
        contamination=0.2,
        seed=0,
    )
    with pytest.warns(TextRepairWarning):
        (sub,) = table.load()
    used = [*sub.train.samples, *sub.test.samples]
    assert sub.meta["counts"]["texts_with_replacements"] == sum("\ufffd" in t for t in used)
    assert sub.meta["replaced_chars"] == 9  # the file-level count is kept as before


def test_clean_files_warn_nothing(tmp_path: Path) -> None:
    import warnings

    path = write(tmp_path / "t.csv", corpus())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        subsets = create("text.one_vs_rest", path=str(path)).load()
    assert not any(subsets[0].meta["counts"].values())


def write_delimited(path: Path, rows: list[tuple[str, str]], delimiter: str, header: bool = True) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=delimiter)
        if header:
            w.writerow(("category", "text"))
        w.writerows(rows)
    return path


def test_tsv_suffix_is_read_as_tab_separated(tmp_path: Path) -> None:
    rows = [(c, f"{c} text, with a comma {i}") for c in ("x", "y") for i in range(6)]
    path = write_delimited(tmp_path / "t.tsv", rows, "\t")
    subsets = create("text.one_vs_rest", path=str(path)).load()
    assert [s.name for s in subsets] == ["x", "y"]
    assert "x text, with a comma 0" in subsets[0].train.samples + subsets[0].test.samples
    assert create("text.one_vs_rest", path=str(path), format="tsv").load()


@pytest.mark.parametrize(
    ("delimiter", "name", "shown"), [("\t", "tab", r"\\t"), (";", "semicolon", ";"), ("|", "pipe", r"\|")]
)
def test_a_missing_column_names_the_delimiter_to_set(
    tmp_path: Path, delimiter: str, name: str, shown: str
) -> None:
    path = write_delimited(tmp_path / "t.txt", corpus(), delimiter)
    with pytest.raises(DataError, match=rf"the header holds {name} characters.*set delimiter='{shown}'"):
        create("text.one_vs_rest", path=str(path), format="csv").load()
    spelled = "tab" if delimiter == "\t" else delimiter
    assert len(create("text.one_vs_rest", path=str(path), format="csv", delimiter=spelled).load()) == 2


def test_headerless_tab_file_like_sms_spam(tmp_path: Path) -> None:
    """The SMS Spam Collection layout: label<TAB>text, no header row."""
    rows = [("ham", "Go until jurong point, crazy..") for _ in range(6)] + [
        ("spam", "Free entry in 2 a wkly comp")
    ] * 3
    path = write_delimited(tmp_path / "SMSSpamCollection", rows, "\t", header=False)
    with pytest.raises(
        DataError, match=r"no column 'text' \(columns: \['ham\\tGo until jurong point.*delimiter='\\t'"
    ):
        create(
            "text.table", path=str(path), format="csv", category_column="category", normal_categories=["ham"]
        ).load()
    (sub,) = create(
        "text.table",
        path=str(path),
        format="tsv",
        columns=["category", "text"],
        category_column="category",
        normal_categories=["ham"],
    ).load()
    assert sub.meta["rows_read"] == 9 and sub.test.n_anomalous == 3


SMS = [
    ("ham", "Go until jurong point, crazy.. Available only in bugis"),
    ("ham", "Ok lar... Joking wif u oni..."),
    ("spam", "Free entry in 2 a wkly comp to win FA Cup final tkts"),
    ("ham", "U dun say so early hor, U c"),
    ("ham", "Nah I don't think he goes to usf, he lives around here though"),
    ("ham", "Even my brother is not"),
    ("spam", "WINNER!! As a valued network customer you have been selected"),
    ("ham", "I'm gonna be home soon"),
]


@pytest.mark.parametrize(("delimiter", "name"), [("\t", "tab"), (";", "semicolon"), ("|", "pipe")])
def test_a_csv_suffix_file_is_read_with_the_delimiter_its_rows_split_on(
    tmp_path: Path, delimiter: str, name: str
) -> None:
    """A tab-separated corpus saved as .csv used to fail with "no column 'text'"; its rows split
    evenly on one delimiter (and raggedly on the commas of its texts), so that one is used, said once."""
    from omniad_text.datasets.reading import TextFormatWarning

    rows = [(c, f"{c} text, with a comma {i}") for c in ("x", "y") for i in range(6)]
    path = write_delimited(tmp_path / "t.csv", rows, delimiter)
    with pytest.warns(TextFormatWarning, match=rf"t.csv is read as {name}-separated: .* set delimiter="):
        subsets = create("text.one_vs_rest", path=str(path)).load()
    assert [s.name for s in subsets] == ["x", "y"]
    assert "x text, with a comma 0" in subsets[0].train.samples + subsets[0].test.samples
    # an explicit delimiter (or format='csv') is obeyed: no guess, the error names the delimiter that fits
    with pytest.raises(DataError, match=rf"the header holds {name} characters"):
        create("text.one_vs_rest", path=str(path), delimiter=",").load()


def test_a_headerless_sms_file_saved_as_csv(tmp_path: Path) -> None:
    path = write_delimited(tmp_path / "sms.csv", SMS, "\t", header=False)
    with pytest.warns(UserWarning, match="read as tab-separated"):
        (sub,) = create(
            "text.table",
            path=str(path),
            columns=["category", "text"],
            category_column="category",
            normal_categories=["ham"],
        ).load()
    assert sub.meta["rows_read"] == 8 and sub.test.n_anomalous == 2
    assert "Go until jurong point, crazy.. Available only in bugis" in sub.train.samples + sub.test.samples


@pytest.mark.parametrize(
    ("dataset", "params"), [("text.table", {"normal_categories": ["ham"]}), ("text.one_vs_rest", {})]
)
def test_a_file_without_suffix_says_which_format_its_rows_fit(
    tmp_path: Path, dataset: str, params: dict
) -> None:
    path = write_delimited(tmp_path / "SMSSpamCollection", SMS, "\t", header=False)
    with pytest.raises(
        ConfigError,
        match=r"cannot tell the format of SMSSpamCollection.* split evenly on tabs: "
        r"format='tsv' reads it",
    ):
        create(dataset, path=str(path), category_column="category", **params).load()


def test_commas_win_when_the_rows_split_evenly_on_them(tmp_path: Path) -> None:
    """Tabs and semicolons inside quoted texts of a real CSV must not make it look like a TSV."""
    rows = [("x", f"x\ttext; {i}") for i in range(6)] + [("y", f"y\ttext; {i}") for i in range(6)]
    path = write(tmp_path / "t.csv", rows)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        subsets = create("text.one_vs_rest", path=str(path)).load()
    assert "x\ttext; 0" in subsets[0].train.samples + subsets[0].test.samples
    # one text column with tabs in some texts: no delimiter splits every row into 2+ fields, commas kept
    single = tmp_path / "single.csv"
    single.write_text("text\na\tb\nplain\nc\td\te\n", encoding="utf-8")
    from omniad_text.datasets.reading import sniff_delimiter

    assert sniff_delimiter(single.read_text()) is None


def test_bad_delimiter_options(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="delimiter must be one character"):
        create("text.one_vs_rest", path=str(tmp_path / "t.csv"), delimiter=";;")
    path = tmp_path / "t.jsonl"
    path.write_text('{"category": "x", "text": "fine"}\n')
    with pytest.raises(ConfigError, match="apply to CSV/TSV files, not jsonl"):
        create("text.one_vs_rest", path=str(path), delimiter=";").load()
