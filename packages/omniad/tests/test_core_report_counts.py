"""A loader's repair/drop counts (``Subset.meta["counts"]``) reach every place users look:
the console, results.md, results.csv/.parquet (``counts.<name>`` columns, summed over subsets),
results_subsets.csv and report.html."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from omniad.cli import main
from omniad.runner import parse_config, run

REPAIRED = """
import dataclasses

from omniad import hookimpl
from omniad.builtins.tabular_data import Blobs


class Repaired(Blobs):
    # two subsets, as a text loader that replaced undecodable characters would report them;
    # b's count is a sum over a float array: a whole float, still a count
    def iter_subsets(self):
        base = next(iter(super().iter_subsets()))
        for name, counts in (("a", {"replaced_chars": 300, "dropped_rows": 2}), ("b", {"replaced_chars": 16.0})):
            yield dataclasses.replace(base, name=name, meta={**base.meta, "counts": counts})


@hookimpl
def omniad_register_datasets(registry):
    registry.add(id="repaired.blobs", target="fake_omniad_repaired:Repaired",
                 params="omniad.builtins.tabular_data:BlobsParams", modality="tabular", summary="repaired text")
"""

SMALL = {"n_train": 40, "n_test_normal": 20, "n_test_anomalous": 5}


def test_loader_counts_reach_results_md_csv_parquet_html_and_console(
    tmp_path: Path, make_plugin, capsys
) -> None:
    make_plugin("repaired", REPAIRED)
    out = tmp_path / "out"
    cfg = parse_config(
        {
            "name": "counts",
            "output_dir": str(out),
            "examples": 0,
            "seeds": [0, 1],
            "detectors": [{"id": "core.knn"}],
            "metrics": ["core.auroc"],
            "datasets": [
                {"id": "repaired.blobs", "params": SMALL, "name": "rep"},
                {"id": "core.blobs", "params": SMALL, "name": "clean"},
            ],
        }
    )
    records = run(cfg, progress=False).records
    assert all(r["status"] == "ok" for r in records)
    note = "dropped_rows 2 (1 of 2 subsets), replaced_chars 316 (every subset)"

    rows = list(csv.DictReader((out / "results.csv").open()))
    rep = [r for r in rows if r["dataset"] == "rep"]
    assert len(rep) == 2 and all(
        r["counts.replaced_chars"] == "316" and r["counts.dropped_rows"] == "2" for r in rep
    )
    # nothing was repaired on the clean dataset
    assert all(r["counts.replaced_chars"] == "" for r in rows if r["dataset"] == "clean")
    assert all(r["data_notes"] == note for r in rep)

    subs = {
        (r["dataset"], r["seed"], r["subset"]): r
        for r in csv.DictReader((out / "results_subsets.csv").open())
    }
    assert (
        subs[("rep", "0", "a")]["counts.replaced_chars"] == "300"
        and subs[("rep", "1", "b")]["counts.replaced_chars"] == "16"
    )

    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(out / "results.parquet").to_pylist()
    assert sorted(r["counts.replaced_chars"] for r in table if r["dataset"] == "rep") == [316, 316]

    md = (out / "results.md").read_text()
    assert f"- core.knn: {note}" in md

    page = (out / "report.html").read_text()
    assert f"Data notes, core.knn: {note}" in page and f"<b>Data notes:</b> {note}" in page
    assert "dropped_rows 2, replaced_chars 300" in page  # subset a's notes cell

    capsys.readouterr()
    assert main(["report", str(out)]) == 0
    assert f"core.knn data: {note}" in " ".join(capsys.readouterr().out.split())


def test_subset_counts_keeps_whole_numbers_of_any_type() -> None:
    import numpy as np

    from omniad.runner.notes import subset_counts

    meta = {
        "counts": {
            "a": np.int64(3),
            "b": np.float64(4.0),
            "c": 5.0,
            "d": 0,
            "e": True,
            "f": 2.5,
            "g": "7",
            "h": float("nan"),
        }
    }
    with pytest.warns(UserWarning) as caught:
        counts = subset_counts(meta)
    assert counts == {"a": 3, "b": 4, "c": 5} and all(type(v) is int for v in counts.values())
    said = [str(w.message) for w in caught]  # what is no count is named, not dropped without a word
    assert len(said) == 4 and all("is not a whole number" in m for m in said)
    assert any("['f'] = 2.5" in m for m in said) and any("['g'] = '7'" in m for m in said)
    assert subset_counts({"counts": [1]}) == {} and subset_counts({}) == {}


def test_loader_counts_reach_fit_and_score_on_own_data(tmp_path: Path, make_plugin) -> None:
    """`omniad fit` says them, `omniad score` keeps them in results.notes and summary.json."""
    import json

    import omniad

    make_plugin("repaired", REPAIRED)
    said: list[str] = []
    model = omniad.fit("core.knn", "repaired.blobs", source_params=SMALL, say=said.append)
    assert "note: a as read by repaired.blobs: dropped_rows 2, replaced_chars 300" in said
    assert "note: b as read by repaired.blobs: replaced_chars 16" in said
    results = omniad.score(model, "repaired.blobs", source_params=SMALL, output_dir=tmp_path / "out",
                           say=said.append)
    assert results.notes[:2] == ["a as read by repaired.blobs: dropped_rows 2, replaced_chars 300",
                                 "b as read by repaired.blobs: replaced_chars 16"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["notes"][:2] == results.notes[:2]
    clean = omniad.score(omniad.fit("core.knn", "core.blobs", source_params=SMALL, say=said.append), "core.blobs",
                         source_params=SMALL, say=said.append)
    assert not any("as read by" in n for n in clean.notes)
