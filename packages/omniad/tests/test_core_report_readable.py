"""Reports people can read: whole labels, short headings with the parameters folded away,
pictures at their own size, a summary across datasets, each dataset sorted by its own
protocol metric, picture names without doubled suffixes, and terminal tables that fit 80
columns without splitting an id."""

from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

from omniad import cli
from omniad.dataset import example_filename, pick_examples
from omniad.runner import parse_config, report, run
from omniad.runner.pictures import Picture, _sample_name, gallery

SMALL = {"n_train": 40, "n_test_normal": 20, "n_test_anomalous": 5}
LONG_KNN = {"n_neighbors": 3, "method": "mean", "chunk_size": 512}  # every parameter changed: a long label


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _csv(path: Path) -> Path:
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(size=(60, 3)), rng.normal(4.0, 1.0, size=(10, 3))])
    labels = np.r_[np.zeros(60, int), np.ones(10, int)]
    lines = ["a,b,c,label"] + [f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{y}" for r, y in zip(x, labels, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def long_labels(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """A real run: a dataset with a required parameter (its stored label lists every parameter),
    a detector with every parameter changed, two seeds and five metrics."""
    out = tmp_path_factory.mktemp("readable")
    table = _csv(out / "features.csv")
    cfg = parse_config({"name": "readable", "output_dir": str(out / "run"), "examples": 0, "seeds": [0, 1],
                        "split_seed": "run",
                        "detectors": [{"id": "core.knn", "params": LONG_KNN}, {"id": "core.mahalanobis"},
                                      {"id": "core.random"}],
                        "datasets": [{"id": "core.csv_table", "params": {"path": str(table)}},
                                     {"id": "core.blobs", "params": SMALL}],
                        "metrics": ["core.auroc", "core.aupr", "core.f1_max", "core.prf_at_decision",
                                    "core.severity_spearman"],
                        "pairing": "modality"})
    return out / "run", run(cfg, progress=False).records


def test_bar_chart_labels_are_whole(long_labels) -> None:
    out, records = long_labels
    page = (out / "report.html").read_text()
    label = "core.knn(chunk_size=512,method=mean,n_neighbors=3)"
    assert any(r["detector"]["label"] == label for r in records)
    charts = re.findall(r"<div class='bars'.*?</div></div>(?!<div class='bar)", page)
    assert len(charts) == 2  # one per dataset
    for chart in charts:  # before: SVG text cut at 40 characters ("core.knn(chunk_size=512,method=mean,n_nei")
        shown = re.sub(r"<[^>]+>", " ", chart.replace("<wbr>", ""))
        assert label in shown and "core.mahalanobis" in shown


def test_dataset_heading_names_only_changed_parameters(long_labels) -> None:
    out, records = long_labels
    stored = next(r["dataset"]["label"] for r in records if r["dataset"]["id"] == "core.csv_table")
    assert "label_column=label" in stored  # a required parameter: the stored label lists every default
    path = str(out.parent / "features.csv")
    heading = f"core.csv_table(path={path},seed=run)"
    page = (out / "report.html").read_text()
    h2 = re.findall(r"<h2>(.*?)</h2>", page)
    assert heading in [h.replace("<wbr>", "") for h in h2]
    assert stored not in [h.replace("<wbr>", "") for h in h2]
    folded = page[page.index(heading.replace(",", ",<wbr>").replace("(", "(<wbr>") + "</h2>"):]
    params = folded[:folded.index("</details>")]
    assert params.startswith(heading.replace(",", ",<wbr>").replace("(", "(<wbr>") + "</h2><details class='params'>")
    for name in ("label_column", "split", "train_fraction", "path"):
        assert f"<code>{name}</code>" in params
    assert "<td>varies: 0, 1</td>" in params  # the split seed of each run
    md = (out / "results.md").read_text()
    assert f"## {heading}\n" in md and f"## {stored}\n" not in md
    assert "`label_column` = label" in md


def test_pictures_are_shown_at_their_own_size_and_enlarge_on_click(tmp_path: Path) -> None:
    (tmp_path / "plot.png").write_bytes(_png(990, 378))
    pic = Picture("core.knn", "ds", 0, "s", "x", "plot.png", tmp_path / "plot.png")
    html = gallery([pic], "examples-0")
    assert 'width="990" height="378"' in html  # laid out at its own size ...
    assert "max-width:100%" in report.CSS and "minmax(320px" not in report.CSS  # ... not as 320-px tiles
    assert "classList.toggle('big')" in html and ".gallery figure.big img{width:96vw" in report.CSS


def test_examples_are_a_hit_and_a_false_alarm_first() -> None:
    labels = np.array([1, 1, 0, 0, 1])
    scores = np.array([0.9, 0.2, 0.8, 0.1, 0.5])
    assert pick_examples(labels, scores, 2) == [0, 2]  # top anomaly, then the top false alarm
    assert pick_examples(labels, scores, 4) == [0, 2, 1, 4]  # then the worst-missed anomaly, next of each
    assert pick_examples(labels, scores, 9) == [0, 2, 1, 4, 3]
    assert pick_examples(None, scores, 2) == [0, 2]  # unlabelled: by score
    assert pick_examples(labels, scores, 0) == []


def test_picture_names_never_double_the_suffix() -> None:
    assert example_filename("bottle", "good/003.png") == "bottle_good_003.png"
    assert example_filename("widget", "crack/014.JPG") == "widget_crack_014.png"
    assert example_filename("synthetic-0", "synthetic-0") == "synthetic-0.png"  # one series per subset
    assert example_filename("ch 1", "blk_-12.5") == "ch_1_blk_-12.5.png"  # ".5" is no file suffix
    assert example_filename("nab", "realKnownCause/cpu.csv") == "nab_realKnownCause_cpu.png"
    for subset, sample in (("bottle", "good/003.png"), ("ch 1", "blk_-12.5"), ("synthetic-0", "synthetic-0")):
        assert _sample_name(f"artifacts/k/{subset}/{example_filename(subset, sample)}", subset) in (
            "good_003", "blk_-12.5", "synthetic-0")


def test_own_data_maps_never_double_the_suffix(tmp_path: Path) -> None:
    from omniad.data import Split
    from omniad.decision import Decisions
    from omniad.results import SourceResults, collect
    from omniad.scores import Scores

    maps = [np.zeros((4, 4)), np.ones((4, 4))]
    split = Split(samples=[np.zeros((4, 4, 3), np.uint8)] * 2, ids=["good/003.png", "crack/014.png"])
    results = SourceResults()
    collect(results, "bottle", split, Decisions(Scores(sample=[0.0, 1.0], local=maps), None, None, None, None),
            None, tmp_path)
    assert sorted(p.name for p in results.maps) == ["bottle-crack_014.png", "bottle-good_003.png"]
    assert sorted(p.name for p in (tmp_path / "maps").glob("*.npy")) == ["bottle-crack_014.npy", "bottle-good_003.npy"]


def _record(detector: str, dataset: str, metrics: dict[str, float], requested: list[str],
            dataset_id: str = "core.blobs", status: str = "ok") -> dict[str, Any]:
    return {"key": f"{detector}-{dataset}", "detector": {"id": detector, "params": {}, "label": detector},
            "dataset": {"id": dataset_id, "params": {}, "label": dataset}, "seed": 0, "status": status,
            "metrics": metrics, "requested_metrics": requested, "metric_ids": {m: m for m in requested},
            "subsets": [], "error": "" if status == "ok" else "boom"}


def test_summary_across_datasets_best_detector_table_and_mean_rank(tmp_path: Path) -> None:
    req = ["core.auroc", "core.aupr"]
    records = [
        _record("det.one", "alpha", {"core.auroc": 0.9, "core.aupr": 0.1}, req),
        _record("det.two", "alpha", {"core.auroc": 0.9, "core.aupr": 0.9}, req),
        _record("det.three", "alpha", {"core.auroc": 0.5, "core.aupr": 0.5}, req),
        _record("det.one", "beta", {"core.auroc": 0.7, "core.aupr": 0.2}, req),
        _record("det.two", "beta", {"core.auroc": 0.8, "core.aupr": 0.1}, req),
        _record("det.three", "beta", {}, req, status="failed"),
    ]
    md = report.markdown(records, "t")
    top = md[:md.index("## alpha")]
    assert "## Summary" in top
    assert "| alpha | AUROC | det.one, det.two | 0.900 |" in top  # a tie names both
    assert "| beta | AUROC | det.two | 0.800 |" in top
    # ranks by hand: alpha 1.5 / 1.5 / 3 (tie shared), beta 2 / 1 (det.three failed: unranked)
    assert "| det.two | **0.900** | **0.800** | 1.25 (2) |" in top
    assert "| det.one | **0.900** | 0.700 | 1.75 (2) |" in top
    assert "| det.three | 0.500 | failed | 3.00 (1) |" in top
    assert top.index("| det.two |") < top.index("| det.one |") < top.index("| det.three |")
    page = report.html_report(records, "t")
    assert page.index("<h2 id='summary'>Summary</h2>") < page.index("<h2>alpha</h2>")
    assert "<td><b>0.800</b></td>" in page and "<td>1.25 (2)</td>" in page


def test_summary_is_rebuilt_by_omniad_report(long_labels, capsys) -> None:
    out, _ = long_labels
    (out / "results.md").unlink()
    assert cli.main(["report", str(out)]) == 0
    md = (out / "results.md").read_text()
    blobs = "core.blobs(n_test_anomalous=5,n_test_normal=20,n_train=40,seed=run)"
    assert md.index("## Summary") < md.index(f"## {blobs}")
    assert "### Detectors x datasets\n" in md and "group" not in md  # they share detectors: one table
    assert f"| detector | {blobs} (AUROC) | core.csv_table(path=" in md


PROTOCOL = """
from omniad import hookimpl


@hookimpl
def omniad_register_datasets(registry):
    registry.add(id="proto.blobs", target="omniad.builtins.tabular_data:Blobs",
                 params="omniad.builtins.tabular_data:BlobsParams", modality="tabular", summary="blobs with a protocol",
                 metrics=("core.auroc", "core.aupr"))
"""


def test_each_dataset_is_sorted_by_its_own_protocol_metric(make_plugin) -> None:
    make_plugin("proto", PROTOCOL)
    req = ["plug.recall_at_fpr", "core.aupr", "core.auroc"]  # a plugin metric first in the config
    values = {"det.a": (0.1, 0.9, 0.2), "det.b": (0.9, 0.1, 0.8)}  # recall, aupr, auroc
    records = [_record(d, "with protocol", dict(zip(req, v, strict=True)), req, dataset_id="proto.blobs")
               for d, v in values.items()]
    records += [_record(d, "without", dict(zip(req, v, strict=True)), req) for d, v in values.items()]
    by_name = {s.dataset: s for s in report.sections(records)}
    sec = by_name["with protocol"]
    assert sec.columns == ["core.auroc", "core.aupr", "plug.recall_at_fpr"]  # card order, then the rest
    assert sec.protocol == ["core.auroc", "core.aupr"]
    assert [r["detector"] for r in sec.rows] == ["det.b", "det.a"]  # by AUROC, not by the plugin's recall
    # no protocol on the card: the first honest metric requested, in config order
    assert by_name["without"].columns[0] == "plug.recall_at_fpr"
    md = report.markdown(records)
    assert "| detector | AUROC | AUPR | plug.recall_at_fpr | fit s |" in md


def _printed(records: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, width: int = 80) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    monkeypatch.setattr(cli, "_console", lambda: console)
    cli._print_results(type("R", (), {"records": records, "outputs": {}})())
    return console.export_text()


def test_results_fit_80_columns_without_splitting_ids(long_labels, monkeypatch) -> None:
    _, records = long_labels
    text = _printed(records, monkeypatch)
    lines = text.splitlines()
    assert max(len(line) for line in lines if line[:1] in "┏┃┡│└") <= 80  # legends below may run on
    tables = [line for line in lines if line.startswith("│")]
    first_cells = [line.split("│")[1].strip() for line in tables]
    assert all(first_cells), "a row took two lines (an empty first cell is a wrapped row)"
    assert len(tables) == 6  # 3 detectors x 2 datasets, one line each
    for ident in ("core.knn", "core.mahalanobis", "core.random"):
        assert sum(ident in cell for cell in first_cells) == 2
    # the long label is shortened in the table and given whole in a legend line under it
    knn = "core.knn(chunk_size=512,method=mean,n_neighbors=3)"
    assert not any(knn in cell for cell in first_cells)
    assert any(cell.startswith("core.knn(") and cell.endswith("[1]") for cell in first_cells)
    assert "[1] " + knn in text
    assert "AUROC" in text and "± " in text  # the headline with its sd over seeds is kept
    assert "not shown at this width:" in text  # what had to go is said
    wide = _printed(records, monkeypatch, width=200)
    assert "not shown at this width" not in wide and knn in wide


def test_list_at_80_columns_keeps_ids_whole(monkeypatch, capsys) -> None:
    console = Console(width=80, record=True, file=io.StringIO())
    monkeypatch.setattr(cli, "_console", lambda: console)
    assert cli.main(["list"]) == 0
    text = console.export_text()
    from omniad.plugins import get_registry

    ids = [e.id for e in get_registry().list()]
    rows = [line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│")]
    assert max(len(line) for line in text.splitlines()) <= 80
    assert [r for r in rows if r] == ids  # each id whole on its own row; summaries wrap instead
    header = next(line for line in text.splitlines() if line.startswith("┃"))
    assert ("left out at this width" in text) == ("plugin" not in header)  # a column left out is said


def test_narrow_labels_keep_what_tells_variants_apart(monkeypatch) -> None:
    from omniad.runner.labels import distinguishing_labels

    def knn(k: int) -> dict[str, Any]:
        params = {**LONG_KNN, "n_neighbors": k}
        label = "core.knn(" + ",".join(f"{n}={v}" for n, v in sorted(params.items())) + ")"
        return {**_record(label, "ds", {"core.auroc": k / 10}, ["core.auroc"]),
                "detector": {"id": "core.knn", "params": params, "label": label}}

    records = [knn(3), knn(7), _record("core.mahalanobis", "ds", {"core.auroc": 0.5}, ["core.auroc"])]
    brief = distinguishing_labels("detector", records)
    assert sorted(brief.values()) == ["core.knn(…,n_neighbors=3)", "core.knn(…,n_neighbors=7)", "core.mahalanobis"]
    text = _printed(records, monkeypatch)
    assert "core.knn(…,n_neighbors=7) [1]" in text and "core.knn(…,n_neighbors=3) [2]" in text
    assert "[1] core.knn(chunk_size=512,method=mean,n_neighbors=7)" in text


BROKEN_METRIC = """
from omniad import hookimpl
from omniad.errors import DataError
from omniad.metric import Metric


class Undefined(Metric):
    def compute(self, truth, scores):
        raise DataError("the ground truth has no normal elements")


@hookimpl
def omniad_register_metrics(registry):
    registry.add(id="nc.undefined", target="fake_omniad_nc:Undefined", modality="any", summary="always undefined")
"""


def test_a_metric_that_could_not_be_computed_is_said_everywhere(make_plugin, tmp_path: Path, monkeypatch) -> None:
    """Before: a metric that raised, or one left out as not fitting the dataset, vanished from the
    console, results.md and report.html (only the job's JSON record held the reason)."""
    make_plugin("nc", BROKEN_METRIC)
    cfg = parse_config({"name": "nc", "output_dir": str(tmp_path / "run"), "examples": 0, "seeds": [0],
                        "detectors": [{"id": "core.knn"}],
                        "datasets": [{"id": "core.csv_table", "params": {"path": str(_csv(tmp_path / "t.csv"))}}],
                        "metrics": ["core.auroc", "nc.undefined", "core.local_auroc"], "pairing": "modality"})
    result = run(cfg, progress=False)
    (record,) = result.records
    assert record["status"] == "ok" and set(record["metrics"]) == {"core.auroc"}
    md = (tmp_path / "run" / "results.md").read_text()
    html_text = (tmp_path / "run" / "report.html").read_text()
    printed = _printed(result.records, monkeypatch, width=200)
    for text in (md, html_text, printed):
        assert "not computed" in text
        assert "the ground truth has no normal elements" in text  # raised by the metric
        assert "core.local_auroc needs localization targets" in text  # left out at planning
