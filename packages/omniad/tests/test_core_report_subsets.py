"""Per-subset results and data notes where users look: results_subsets.csv/.parquet, results.md,
report.html and the CLI printout; records with or without the data-note fields."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from omniad.cli import main
from omniad.runner import ResultStore, parse_config, report, run

CHANNELS = """
import dataclasses

from omniad import hookimpl
from omniad.builtins.tabular_data import Blobs


class Channels(Blobs):
    # three channels; channel i is the blob set shifted by i, so each gets its own AUROC
    def iter_subsets(self):
        base = next(iter(super().iter_subsets()))
        for i, name in enumerate(("ch1", "ch2", "ch3")):
            test = dataclasses.replace(base.test, samples=base.test.samples[:, ::-1] if i else base.test.samples)
            yield dataclasses.replace(base, name=name, test=test)


@hookimpl
def omniad_register_datasets(registry):
    registry.add(id="channels.blobs", target="fake_omniad_channels:Channels",
                 params="omniad.builtins.tabular_data:BlobsParams", modality="tabular", summary="three channels")
"""

SMALL = {"n_train": 40, "n_test_normal": 20, "n_test_anomalous": 5}
NOTE = "nan_repaired 5 (2 of 3 subsets); warnings: UserWarning: ch2 has a constant stretch (1 of 3 subsets)"


def _run(tmp_path: Path, make_plugin) -> tuple[Path, list[dict]]:
    make_plugin("channels", CHANNELS)
    out = tmp_path / "out"
    cfg = parse_config({"name": "channels", "output_dir": str(out), "examples": 0, "seeds": [0, 1],
                        "detectors": [{"id": "core.knn"}, {"id": "core.random"}],
                        "datasets": [{"id": "channels.blobs", "params": SMALL, "name": "chan"}],
                        "metrics": ["core.auroc", "core.aupr"]})
    return out, run(cfg, progress=False).records


def _with_notes(out: Path, records: list[dict]) -> list[dict]:
    """The records as a runner that surfaces data notes writes them (the store must accept them)."""
    store = ResultStore(out)
    for record in records:
        if record["detector"]["id"] != "core.knn":
            for sub in record["subsets"]:  # an older record: none of the fields
                for name in ("counts", "warnings"):
                    sub.pop(name, None)
            record.pop("data_notes", None)
            store.write(record)
            continue
        for i, sub in enumerate(record["subsets"]):
            sub["counts"] = {"nan_repaired": 2 + i} if i < 2 else {}
            sub["warnings"] = ["UserWarning: ch2 has a constant stretch"] if i == 1 else []
        record["data_notes"] = NOTE
        store.write(record)
    return ResultStore(out).records()


def test_per_subset_table_csv_parquet_markdown_and_html(tmp_path, make_plugin) -> None:
    out, records = _run(tmp_path, make_plugin)
    assert all(r["status"] == "ok" and len(r["subsets"]) == 3 for r in records)
    records = _with_notes(out, records)
    written = report.write_all(records, out, title="channels")

    rows = list(csv.DictReader((out / "results_subsets.csv").open()))
    assert written["subsets_csv"] == out / "results_subsets.csv"
    assert len(rows) == 2 * 2 * 3  # detectors x seeds x subsets
    by = {(r["detector"], r["seed"], r["subset"]): r for r in rows}
    knn = next(r for r in records if r["detector"]["id"] == "core.knn" and r["seed"] == 0)
    for sub in knn["subsets"]:  # each row holds the subset's own values, not the job's mean
        row = by[("core.knn", "0", sub["name"])]
        assert float(row["core.auroc"]) == pytest.approx(sub["metrics"]["core.auroc"])
        assert row["status"] == "ok" and row["n_test"] == "25" and row["key"] == knn["key"]
    assert {k[2]: by[("core.knn", "0", k[2])]["counts.nan_repaired"] for k in by if k[:2] == ("core.knn", "0")} == {
        "ch1": "2", "ch2": "3", "ch3": ""}
    assert by[("core.knn", "1", "ch2")]["warnings"] == "UserWarning: ch2 has a constant stretch"
    assert by[("core.random", "0", "ch1")]["counts.nan_repaired"] == "" and by[("core.random", "0", "ch1")]["warnings"] == ""
    assert len({r["core.auroc"] for r in rows if r["detector"] == "core.knn" and r["seed"] == "0"}) > 1

    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(out / "results_subsets.parquet")
    assert table.num_rows == 12 and {"subset", "core.auroc", "counts.nan_repaired", "warnings"} <= set(table.column_names)

    md = (out / "results.md").read_text()
    assert "### chan: AUROC per subset" in md
    block = md[md.index("### chan: AUROC per subset"):]
    assert block.splitlines()[2].startswith("| subset | core.knn | core.random |")
    ch2 = next(line for line in block.splitlines() if line.startswith("| ch2 |"))
    assert " ± " in ch2  # mean over the two seeds, with their sd
    assert f"- core.knn: {NOTE}" in md and "Data notes" in md

    page = (out / "report.html").read_text()
    assert "AUROC per subset (3 subsets" in page and "<td class='l'>ch3</td>" in page
    assert f"Data notes, core.knn: {NOTE}" in page.replace("&#x27;", "'")
    assert page.count(f"<b>Data notes:</b> {NOTE}") == 2  # per job: two seeds of core.knn
    assert "nan_repaired 3 · warnings: UserWarning: ch2 has a constant stretch" in page  # the subset's notes cell


def test_data_notes_in_the_cli_printout_and_older_records(tmp_path, make_plugin, capsys) -> None:
    out, records = _run(tmp_path, make_plugin)
    _with_notes(out, records)
    capsys.readouterr()
    assert main(["report", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"core.knn data: {NOTE}" in " ".join(printed.split())
    assert "core.random data" not in printed
    assert "results_subsets.csv" in printed

    # records from before the fields existed: nothing to note, nothing breaks
    store = ResultStore(out)
    for record in store.records():
        record.pop("data_notes", None)
        for sub in record["subsets"]:
            sub.pop("counts", None)
            sub.pop("warnings", None)
        store.path(record["key"]).write_text(json.dumps(record))
    assert main(["report", str(out)]) == 0
    assert "data:" not in capsys.readouterr().out
    assert "Data notes" not in (out / "results.md").read_text()
    rows = list(csv.DictReader((out / "results_subsets.csv").open()))
    assert len(rows) == 12 and all(r["warnings"] == "" for r in rows)


def test_a_single_subset_dataset_gets_no_per_subset_matrix(tmp_path) -> None:
    cfg = parse_config({"output_dir": str(tmp_path), "examples": 0, "detectors": [{"id": "core.knn"}],
                        "datasets": [{"id": "core.blobs", "params": SMALL}], "metrics": ["core.auroc"]})
    run(cfg, progress=False)
    assert "per subset" not in (tmp_path / "results.md").read_text()
    assert len(list(csv.DictReader((tmp_path / "results_subsets.csv").open()))) == 1
