"""Parameter models of the text datasets (pydantic only: cards point here).

The reading options and the one-vs-rest protocol are defined once, so a Latin-1 file, an
empty text or a 0.1 contamination behave the same in every loader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from omniad.params import Params
from omniad_text.datasets.reading import Format, check_delimiter, check_encoding

_EMPTY = (
    "texts that are empty or only whitespace: drop = leave them out and count them in meta "
    "(empty_texts_dropped); error = refuse the file. An embedding of nothing says nothing about the text"
)


class ReadingParams(Params):
    format: Format = Field(
        default="auto", description="csv, tsv (tab-separated), jsonl or parquet; auto = from the file suffix (.tsv = tsv)"
    )
    delimiter: str | None = Field(
        default=None,
        description="field separator of a csv/tsv file, one character (',', '\\t' or 'tab', ';', '|'); "
        "None = comma for csv, tab for tsv",
    )
    columns: list[str] | None = Field(
        default=None, min_length=1,
        description="names of the columns of a csv/tsv file without a header row (its first line is then data); "
        "None = the first line names them",
    )
    encoding: str = Field(
        default="utf-8",
        description="encoding of CSV/JSONL files; bytes that do not decode are replaced (U+FFFD) and counted "
        "in meta (replaced_chars)",
    )
    text_column: str = Field(default="text", description="column holding the text of each row")
    id_column: str | None = Field(default=None, description="column naming each row in reports; default row-<n>")
    empty_texts: Literal["drop", "error"] = Field(default="drop", description=_EMPTY)

    @field_validator("encoding")
    @classmethod
    def _codec(cls, value: str) -> str:
        return check_encoding(value)

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, value: str | None) -> str | None:
        return check_delimiter(value)


class SplitParams(Params):
    train_fraction: float = Field(
        default=0.8, gt=0, lt=1, description="share of the normal texts that form the train split (seeded)"
    )
    seed: int = Field(default=0, description="seed of the train/test split and of the anomaly sample")
    contamination: float | None = Field(
        default=None, gt=0, lt=1,
        description="share of anomalies in the test split; None = every anomalous text (the Text-ADBench "
        "protocol); a float = a seeded sample of the anomalies of that share",
    )


#: parameters that name table columns or CSV syntax: meaningless for plain text (.txt files, folders)
TABLE_ONLY = ("delimiter", "columns", "text_column", "id_column", "label_column", "category_column")


class TableParams(ReadingParams, SplitParams):
    path: Path | None = Field(
        default=None,
        description="a CSV, TSV, JSONL or parquet table, a .txt file (one_text_per line or paragraph) or a folder "
        "of .txt files (one text per file)",
    )
    format: Literal["auto", "csv", "tsv", "jsonl", "parquet", "txt"] = Field(
        default="auto",
        description="csv, tsv (tab-separated), jsonl, parquet or txt (plain text); auto = from the file suffix "
        "(.tsv = tsv, .txt = txt; a folder is read as .txt files)",
    )
    split: Literal["random", "all"] = Field(
        default="random",
        description="random: a seeded train_fraction of the normal texts trains, the rest and the anomalies test "
        "(needs labels); all: every text is scored and the texts not labelled anomalous train, labels optional "
        "(what `omniad fit / score / detect` use)",
    )
    one_text_per: Literal["line", "paragraph"] = Field(
        default="line",
        description="how a .txt file is cut into texts: one per line, or one per paragraph (blocks separated by "
        "blank lines); a folder holds one text per .txt file either way",
    )
    label_column: str | None = Field(
        default=None,
        description="0/1 label per row (also true/false, normal/anomaly); give it or category_column. With "
        "split='all' both are optional, and a column named 'label' is used when the table has one",
    )
    category_column: str | None = Field(default=None, description="category per row; with normal_categories")
    normal_categories: list[str] | None = Field(
        default=None, description="with category_column: the categories that are normal; all others are anomalies"
    )

    @model_validator(mode="after")
    def _one_label_source(self) -> TableParams:
        if self.label_column is not None and self.category_column is not None:
            raise ValueError("give exactly one of label_column (0/1 labels) and category_column (with "
                             "normal_categories), not both")
        if self.split == "random" and self.label_column is None and self.category_column is None:
            raise ValueError("give exactly one of label_column (0/1 labels) and category_column (with "
                             "normal_categories); unlabelled texts (a table without labels, a .txt file, a folder) "
                             "need split='all'")
        if self.category_column is not None and not self.normal_categories:
            raise ValueError("category_column needs normal_categories (the categories that count as normal)")
        if self.label_column is not None and self.normal_categories is not None:
            raise ValueError("normal_categories goes with category_column, not label_column")
        if self.category_column is None and self.normal_categories is not None:
            raise ValueError("normal_categories goes with category_column (the column holding the categories); "
                             "set both, or neither")
        return self


class ProtocolParams(SplitParams):
    categories: list[str] | None = Field(
        default=None, description="categories that take a turn as the normal class (one subset each); None = all"
    )
    max_per_category: int | None = Field(
        default=None, ge=2,
        description="keep at most this many texts of each category (a seeded sample) before splitting; "
        "for quick checks, None = all",
    )
    min_train: int = Field(default=2, ge=1, description="a normal category needs at least this many training texts")


class OneVsRestParams(ReadingParams, ProtocolParams):
    path: Path | None = Field(default=None, description="a CSV, JSONL or parquet file with a text and a category column")
    category_column: str = Field(default="category", description="column holding each row's category")


class BBCParams(ProtocolParams):
    root: Path | None = Field(
        default=None, description="folder holding bbc_news.csv; default $OMNIAD_SHARED_DATA/data/bbc_news"
    )


class SyntheticParams(Params):
    n_topics: int = Field(default=3, ge=2, le=5, description="topics generated; anomalies come from the others")
    n_subsets: int = Field(default=1, ge=1, le=5, description="the first n topics each take a turn as normal")
    n_train: int = Field(default=80, ge=2, description="normal training texts per subset")
    n_test_normal: int = Field(default=20, ge=1)
    n_test_anomalous: int = Field(default=20, ge=1)
    garbled_fraction: float = Field(
        default=0.25, ge=0, le=1,
        description="share of the anomalies that are normal-topic texts with scrambled letters instead of "
        "texts of another topic",
    )
    min_words: int = Field(default=8, ge=2)
    max_words: int = Field(default=16, ge=2)
    seed: int = Field(default=0)

    @model_validator(mode="after")
    def _check(self) -> SyntheticParams:
        if self.n_subsets > self.n_topics:
            raise ValueError(f"n_subsets={self.n_subsets} but only n_topics={self.n_topics} topics are generated")
        if self.min_words > self.max_words:
            raise ValueError(f"min_words={self.min_words} exceeds max_words={self.max_words}")
        return self
