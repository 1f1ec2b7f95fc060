"""Logs on your own data: the README's commands in fresh processes, equal to the Python API.

Real files from ``../shared/data/loghub`` (skipped with a message when it is absent): the README
fits ``logs.pca`` on the first 1,000 lines of BGL's 2k sample (as ``head -n 1000`` writes them)
and scores the whole file, whose first tokens are labels; Linux's sample stands in for an
unlabelled ``server.log``. The whole module takes well under a minute on 2 cores.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import omniad
from omniad.detector import Detector
from omniad.errors import ConfigError, DataError
from omniad.plugins import get_registry
from omniad_logs.datasets.reading import shared_data_root
from omniad_logs.session import LogSession

LOGHUB = shared_data_root() / "data" / "loghub"
BGL = LOGHUB / "BGL" / "BGL_2k.log"
LINUX = LOGHUB / "Linux" / "Linux_2k.log"
HDFS = LOGHUB / "HDFS" / "HDFS_2k.log"
pytestmark = pytest.mark.skipif(
    not (BGL.is_file() and LINUX.is_file() and HDFS.is_file()),
    reason=f"loghub 2k samples not found under {LOGHUB} (set OMNIAD_SHARED_DATA to the shared folder)",
)
ENV = {**os.environ, "PYTHONHASHSEED": "0"}
ELEMENT_COLUMNS = {"file", "line", "timestamp", "template", "event", "new_template", "raw"}


def _quiet(_: str) -> None:
    pass


def _cli(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "omniad", *argv], capture_output=True, text=True, env=ENV, cwd=cwd,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _head(src: Path, dst: Path, n: int) -> Path:
    """What ``head -n n src > dst`` writes."""
    dst.write_bytes(b"".join(src.read_bytes().splitlines(keepends=True)[:n]))
    return dst


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("own-logs")
    _head(BGL, folder / "bgl_first_half.log", 1000)
    return folder


@pytest.fixture(scope="module")
def cli(work: Path) -> dict[str, Any]:
    """The README's two commands, each in a fresh process."""
    fit = _cli(work, "fit", "logs.pca", "bgl_first_half.log", "-o", "bgl-model")
    score = _cli(work, "score", "bgl-model", str(BGL), "-o", "bgl-out")
    return {"fit": fit, "score": score, "out": work / "bgl-out"}


@pytest.fixture(scope="module")
def api(work: Path) -> dict[str, Any]:
    model = omniad.fit("logs.pca", work / "bgl_first_half.log", say=_quiet)
    results = omniad.score(model, BGL, say=_quiet)
    return {"model": model, "results": results}


def test_cli_fit_then_score_in_fresh_processes_equals_the_python_api(cli: dict[str, Any], api: dict[str, Any]) -> None:
    out: Path = cli["out"]
    samples = [(r["sample"], float(r["score"]), int(r["decision"])) for r in _csv(out / "samples.csv")]
    rows = api["results"].samples.rows()
    assert samples == [(r["sample"], r["score"], r["decision"]) for r in rows]  # exactly, not approximately
    elements = [(r["sample"], int(r["line"]), r["event"], float(r["score"]), int(r["new_template"]))
                for r in _csv(out / "elements.csv")]
    assert elements == [(r["sample"], r["line"], r["event"], r["score"], r["new_template"])
                        for r in api["results"].elements.rows()]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["metrics"] == pytest.approx(api["results"].metrics, abs=0, rel=0)


def test_header_choice_is_printed_with_its_share(cli: dict[str, Any]) -> None:
    assert "reading bgl_first_half.log with logs.bgl" in cli["fit"].stderr
    assert "header format BGL (matched 200 of 200 probed lines, 100%), probed" in cli["fit"].stderr
    assert "header format BGL (matched 200 of 200 probed lines, 100%), as the model's fit data was read" \
        in cli["score"].stderr


def test_per_line_table_names_file_line_raw_text_and_template(cli: dict[str, Any]) -> None:
    elements = _csv(cli["out"] / "elements.csv")
    assert set(elements[0]) >= ELEMENT_COLUMNS
    raw = BGL.read_text().splitlines()
    assert len(elements) == len(raw) == 2000  # windows of 20 lines side by side: each line once
    for r in elements[::97]:
        assert r["file"] == "BGL_2k.log" and r["raw"] == raw[int(r["line"]) - 1] and r["template"]
        assert r["label"] == ("0" if raw[int(r["line"]) - 1].startswith("- ") else "1")
    samples = _csv(cli["out"] / "samples.csv")
    assert samples[0]["sample"] == "BGL_2k.log:1-20" and samples[-1]["sample"] == "BGL_2k.log:1981-2000"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", elements[0]["timestamp"])


def test_pictures_rank_lines_and_sessions(cli: dict[str, Any]) -> None:
    pictures = cli["out"] / "pictures" / "BGL_2k.log"
    page = (pictures / "top_lines.html").read_text()
    table = (pictures / "top_lines.md").read_text()
    assert "ANOMALY" in page and "BGL_2k.log:" in page and "Session scores (100 sessions" in page
    first = next(line for line in table.splitlines() if line.startswith("| 1 |"))
    assert "ANOMALY" in first and "BGL_2k.log:" in first and "`" in first  # score, flag, where, template, raw
    if _has_matplotlib():
        assert (pictures / "session_scores.png").stat().st_size > 1000


def _has_matplotlib() -> bool:
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def test_labelled_bgl_source_gets_metrics_checked_against_scikit_learn(cli: dict[str, Any]) -> None:
    from sklearn.metrics import roc_auc_score

    metrics = json.loads((cli["out"] / "summary.json").read_text())["metrics"]
    samples = _csv(cli["out"] / "samples.csv")
    y = [int(r["label"]) for r in samples]
    assert metrics["sample_auroc"] == pytest.approx(roc_auc_score(y, [float(r["score"]) for r in samples]), abs=1e-12)
    elements = _csv(cli["out"] / "elements.csv")
    assert metrics["element_auroc"] == pytest.approx(
        roc_auc_score([int(r["label"]) for r in elements], [float(r["score"]) for r in elements]), abs=1e-12)
    # measured 0.717 sample / 0.775 line AUROC (fit on the first half, 700 lines of new templates after it)
    assert metrics["sample_auroc"] > 0.6 and metrics["element_auroc"] > 0.65


def test_parser_state_is_reused_so_event_ids_match(work: Path, api: dict[str, Any]) -> None:
    model = api["model"]
    fit_read = get_registry().get("dataset", "logs.bgl").create(model.source_["params"])
    fitted = {int(n): e for s in next(fit_read.subsets()).test.samples
              for n, e in zip(s.meta["line_numbers"], s.events, strict=True)}
    elements = api["results"].elements.rows()
    first_half = [r for r in elements if r["line"] <= 1000]
    assert [r["event"] for r in first_half] == [fitted[r["line"]] for r in first_half]
    assert not any(r["new_template"] for r in first_half)
    new = [r for r in elements if r["new_template"]]
    assert new and all(r["event"] not in set(fitted.values()) for r in new)
    # the count the loader records is the column's
    scored = get_registry().get("dataset", "logs.bgl").create({**model.source_["params"], "path": str(BGL)})
    scored.import_source_state(model.source_["state"])
    with pytest.warns(UserWarning, match=f"{len(new)} lines of .* templates the model's parser had not seen"):
        counts = next(scored.subsets()).meta["counts"]
    assert counts["lines_new_template"] == len(new) and counts["new_templates"] == len({r["event"] for r in new})


def test_unlabelled_raw_log_detects_in_one_step_and_says_metrics_were_skipped(work: Path) -> None:
    """The root README's ``omniad detect logs.pca server.log --contamination 0.01``."""
    _head(LINUX, work / "server.log", 600)
    proc = _cli(work, "detect", "logs.pca", "server.log", "--contamination", "0.01", "-o", "server-out")
    assert "header format Linux" in proc.stderr
    assert "the source has no labels: metrics skipped" in proc.stderr
    summary = json.loads((work / "server-out" / "summary.json").read_text())
    assert summary["metrics"] == {} and summary["n_samples"] == 30 and summary["n_flagged_samples"] >= 1
    assert (work / "server-out" / "model").is_dir() and (work / "server-out" / "pictures").is_dir()


def test_a_session_a_list_of_lines_and_a_path_are_accepted(api: dict[str, Any]) -> None:
    model: Detector = api["model"]
    lines = BGL.read_text().splitlines()[1000:1040]
    from_lines = model.score(lines)  # one session, parsed with the model's saved parser
    assert from_lines.sample.shape == (1,) and len(from_lines.local[0]) == 40
    from omniad_logs.detectors.inputs import coerce_samples

    session = coerce_samples(lines, "t", model.source_)[0]
    assert isinstance(session, LogSession) and session.meta["parser"] == "model"
    by_line = {r["line"]: r["event"] for r in api["results"].elements.rows()}
    assert list(session.events) == [by_line[n] for n in range(1001, 1041)]  # same ids as reading the file
    assert model.score(session).sample == pytest.approx(from_lines.sample, abs=0)
    assert model.score([session, session]).sample.shape == (2,)
    assert model.score(str(BGL)).sample.shape == (100,)


@pytest.mark.parametrize(("bad", "message"), [
    (np.zeros(3), "log detectors take .*got a numpy array of shape \\(3,\\)"),
    ({"message": "disk full"}, "log detectors take .*got a dict"),
    (42, "log detectors take .*got an int"),
    ([1, "x"], "a list of raw log lines must hold only strings"),
    (["", "  "], "the 2 lines are all blank"),
])
def test_bad_input_fails_saying_what_to_pass(api: dict[str, Any], bad: Any, message: str) -> None:
    with pytest.raises(DataError, match=message):
        api["model"].score(bad)


def test_log_format_override_and_bad_format(work: Path) -> None:
    _head(LINUX, work / "linux.log", 200)
    said: list[str] = []
    model = omniad.fit("logs.pca", work / "linux.log", source_params={"log_format": "none"}, say=said.append)
    results = omniad.score(model, work / "linux.log", say=_quiet)
    template = results.elements.rows()[0]["template"]
    assert "combo sshd" in template  # the header (host, program) is part of the content
    named = omniad.fit("logs.pca", work / "linux.log", source_params={"log_format": "Linux"}, say=_quiet)
    assert named.source_["state"]["header"].startswith("<Month> <Date> <Time>")
    with pytest.raises(ConfigError, match="neither a format string with <Content> nor a known system"):
        omniad.fit("logs.pca", work / "linux.log", source_params={"log_format": "<Foo>"}, say=_quiet)


def test_sessions_by_id_and_the_hdfs_layout_with_labels(work: Path) -> None:
    folder = work / "hdfs"
    folder.mkdir()
    log = _head(HDFS, folder / "HDFS_2k.log", 2000)
    said: list[str] = []
    model = omniad.fit("logs.pca", log, source_params={"session_pattern": r"blk_-?\d+"}, say=said.append)
    assert said[0].startswith(f"reading {log} with logs.loghub")
    results = omniad.score(model, log, say=_quiet)
    ids = [r["sample"] for r in results.samples.rows()]
    assert all(i.startswith("blk_") for i in ids) and len(ids) == len(set(ids))
    blocks = list(dict.fromkeys(re.findall(r"blk_-?\d+", log.read_text())))
    with (folder / "anomaly_label.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["BlockId", "Label"])
        writer.writerows((b, "Anomaly" if i % 10 == 0 else "Normal") for i, b in enumerate(blocks))
    said.clear()
    labelled = omniad.fit("logs.pca", log, say=said.append)
    assert said[0].startswith(f"reading {log} with logs.hdfs")
    assert "sample_auroc" in omniad.score(labelled, log, say=_quiet).metrics


def test_a_folder_of_logs_is_one_source(work: Path) -> None:
    folder = work / "logs"
    folder.mkdir()
    lines = LINUX.read_bytes().splitlines(keepends=True)
    (folder / "a.log").write_bytes(b"".join(lines[:300]))
    (folder / "b.txt").write_bytes(b"".join(lines[300:500]))
    model = omniad.fit("logs.pca", folder, say=_quiet)
    rows = omniad.score(model, folder, say=_quiet).samples.rows()
    assert {r["subset"] for r in rows} == {"a.log", "b.txt"}
    assert rows[0]["sample"] == "a.log:1-20" and rows[-1]["sample"] == "b.txt:181-200"


def test_pre_parsed_sessions_and_tables_are_sources_labelled_or_not(work: Path) -> None:
    seqs = work / "sessions.csv"
    seqs.write_text("Sequence,label\n" + "".join(f"5 5 22 11 9 {'26 ' * (i % 3)}21,0\n" for i in range(40))
                    + "".join("5 22 11 11 11 11 9 4,1\n" for _ in range(5)))
    text = work / "sessions.txt"
    text.write_text("".join(f"5 5 22 11 9 {'26 ' * (i % 3)}21\n" for i in range(30)))
    model = omniad.fit("logs.pca", text, say=_quiet)
    results = omniad.score(model, seqs, say=_quiet)
    assert results.samples.rows()[0]["sample"] == "sessions.csv:2"
    assert results.metrics["sample_auroc"] == 1.0  # the 5 odd sessions (unseen event 4) score highest
    first = results.elements.rows()[0]
    assert (first["file"], first["line"], first["position"], first["event"]) == ("sessions.csv", 2, 1, "5")
    table = work / "records.csv"
    with table.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["time", "msg"])
        writer.writerows((1_700_000_000 + i, f"user {i % 7} logged in from 10.0.0.{i % 5}") for i in range(60))
    said: list[str] = []
    model = omniad.fit("logs.pca", table, say=said.append)
    assert said[0].startswith(f"reading {table} with logs.table")
    scored = omniad.score(model, table, say=_quiet)
    assert "the source has no labels: metrics skipped (scores and decisions only)" in scored.notes
    row = scored.elements.rows()[0]
    assert (row["line"], row["raw"], row["timestamp"]) == (2, "user 0 logged in from 10.0.0.0", "2023-11-14T22:13:20Z")
