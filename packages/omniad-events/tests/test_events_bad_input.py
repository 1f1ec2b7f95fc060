"""Bad input to the table loader and the detectors: counted and handled, or one clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from omniad.errors import ConfigError, DataError
from omniad.plugins import get_registry
from omniad.runner.notes import subset_counts


def _load(path: Path, **params: object):
    return list(get_registry().get("dataset", "events.table").create({"path": str(path), **params}).subsets())


def _detector(did: str = "events.avf", **params: object):
    return get_registry().get("detector", did).create(params, device="cpu", seed=0)


def _write(tmp_path: Path, text: str, name: str = "events.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_missing_cells_text_in_numbers_and_constant_columns_are_counted(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "proto,service,bytes,site,label\n"
        "tcp,http,10,A,0\nudp,,20,A,0\ntcp,dns,oops,A,0\ntcp,http,,A,1\nudp,dns,40,A,0\n",
    )
    with pytest.warns(UserWarning, match="not numbers"), pytest.warns(UserWarning, match=r"\['site'\] hold one value"):
        (subset,) = _load(path, split="all")
    counts = subset.meta["counts"]
    assert counts["missing_entities"] == 1
    assert counts["numeric_text_cells"] == 1 and counts["missing_numbers"] == 1
    assert counts["constant_fields"] == 1 and subset.meta["constant_fields"] == ["site"]
    assert subset_counts(subset.meta) == {k: v for k, v in counts.items() if v}  # every count reaches the data notes
    assert subset.meta["entities"] == ["proto", "service", "site"] and subset.meta["numeric"] == ["bytes"]
    assert subset.test.labels.tolist() == [0, 0, 0, 1, 0] and len(subset.train) == 4
    det = _detector().fit(subset.train.samples)
    assert np.all(np.isfinite(det.score(subset.test.samples).sample))


def test_unseen_categories_at_scoring_are_counted_and_scored_as_rare(tmp_path: Path) -> None:
    train = [{"proto": "tcp", "port": "80"}] * 20 + [{"proto": "udp", "port": "53"}] * 20
    for did in ("events.avf", "events.embedded"):
        det = _detector(did).fit(train)
        scores = det.score([{"proto": "tcp", "port": "80"}, {"proto": "sctp", "port": "80"}])
        assert det.score_counts_["unseen_entities"] == 1
        assert [float(a[0]) for a in scores.extras["unseen_entities"]] == [0.0, 1.0]
        assert scores.sample[1] > scores.sample[0]


def test_one_row_table_fits_and_scores(tmp_path: Path) -> None:
    path = _write(tmp_path, "proto,bytes\ntcp,5\n")
    (subset,) = _load(path, split="all")
    for did, params in (
        ("events.avf", {}),
        ("events.embedded", {}),
        ("events.clan", {"epochs": 1, "hidden": [4], "rep_dim": 2}),
        ("events.ape", {"epochs": 1, "min_steps": 1, "dim": 2}),
    ):
        det = _detector(did, **params).fit(subset.train.samples)
        assert det.score(subset.test.samples).sample.shape == (1,)


def test_a_field_missing_at_score_names_it() -> None:
    det = _detector().fit([{"proto": "tcp", "bytes": 1.0}, {"proto": "udp", "bytes": 2.0}])
    with pytest.raises(DataError, match=r"lack fields \['bytes'\]"):
        det.score([{"proto": "tcp"}])


def test_bad_labels_and_missing_columns_fail_clearly(tmp_path: Path) -> None:
    path = _write(tmp_path, "proto,bytes,label\ntcp,5,0\nudp,6,maybe\n")
    with pytest.raises(DataError, match="label 'maybe'"):
        _load(path, split="all")
    with pytest.raises(DataError, match=r"no columns \['nope'\]"):
        _load(path, split="all", entity_columns=["nope"])
    with pytest.raises(ConfigError, match="needs label_column"):
        _load(path)
    with pytest.raises(DataError, match="no data rows"):
        _load(_write(tmp_path, "proto,bytes\n", "empty.csv"), split="all")


def test_named_labels_give_categories_and_a_random_split(tmp_path: Path) -> None:
    rows = "\n".join(f"tcp,{i},{'normal' if i % 4 else 'dos'}" for i in range(40))
    path = _write(tmp_path, "proto,bytes,kind\n" + rows + "\n")
    (subset,) = _load(path, label_column="kind", normal_labels=["normal"])
    assert subset.train.labels.sum() == 0 and subset.test.n_anomalous == 10
    assert set(subset.test.meta["categories"]) == {"normal", "dos"}


def test_a_bare_csv_path_is_opened_by_events_table(tmp_path: Path) -> None:
    path = _write(tmp_path, "proto,service,bytes\n" + "\n".join(f"tcp,http,{i}" for i in range(30)) + "\n")
    det = _detector().fit(str(path))
    assert det.source_ is not None and "events.table" in str(det.source_)
    assert det.score(str(path)).sample.shape == (30,)


def _flows(n: int = 60) -> str:
    """An intrusion export as UNSW-NB15 / CIC-IDS write them: a row number, a clock as numbers and as
    text (two rows a second), a flow id and an attack name beside the features and the label."""
    rng = np.random.default_rng(0)
    lines = ["id,Flow ID,proto,service,sbytes,dur,stime,Timestamp,attack_cat,Label"]
    for i in range(n):
        attack = i % 10 == 9
        lines.append(f"{i + 1},flow-{i:04d},{rng.choice(['tcp', 'udp'])},{rng.choice(['http', 'dns'])},"
                     f"{int(rng.integers(100, 900)) * (50 if attack else 1)},{rng.uniform(0, 2):.3f},"
                     f"{1421927414 + 3 * i},2017-07-03 08:{i // 2 // 60:02d}:{i // 2 % 60:02d},"
                     f"{'Exploits' if attack else 'Normal'},{int(attack)}")
    return "\n".join(lines) + "\n"


def test_row_numbers_clocks_identifiers_and_attack_names_are_left_out_and_said(tmp_path: Path) -> None:
    path = _write(tmp_path, _flows())
    with pytest.warns(UserWarning, match="left out of the features") as caught:
        (subset,) = _load(path, split="all")
    said = " ".join(str(w.message) for w in caught)
    for column in ("'id'", "'Flow ID'", "'stime'", "'Timestamp'", "'attack_cat'"):
        assert f"column {column} is left out" in said
    assert "row number or a clock" in said and "an identifier" in said and "annotates the label" in said
    assert "dates and times" in said
    assert subset.meta["entities"] == ["proto", "service"] and subset.meta["numeric"] == ["sbytes", "dur"]
    assert sorted(subset.meta["left_out"]) == ["Flow ID", "Timestamp", "attack_cat", "id", "stime"]
    assert subset.meta["counts"]["left_out_columns"] == 5
    assert subset.meta["label_column"] == "Label"  # found in any case, as CIC-IDS spells it
    assert subset.test.labels.sum() == 6


def test_named_columns_are_used_as_named_even_when_they_look_like_counters(tmp_path: Path) -> None:
    path = _write(tmp_path, _flows())
    (subset,) = _load(path, split="all", numeric_columns=["sbytes", "dur", "stime"], entity_columns=["proto"],
                      id_column="id")
    assert subset.meta["numeric"] == ["sbytes", "dur", "stime"] and subset.meta["entities"] == ["proto"]
    assert subset.meta["left_out"] == {}  # both kinds named: nothing else is typed, so nothing is left out


def test_a_short_table_keeps_its_columns(tmp_path: Path) -> None:
    """Below 20 rows order and distinctness say nothing: a 5-row table's rising column stays a feature."""
    path = _write(tmp_path, "n,proto,bytes\n1,tcp,10\n2,udp,20\n3,tcp,30\n4,tcp,40\n5,udp,50\n")
    (subset,) = _load(path, split="all")
    assert subset.meta["numeric"] == ["n", "bytes"] and subset.meta["left_out"] == {}


def test_a_model_reads_new_files_with_its_fit_datas_fields(tmp_path: Path) -> None:
    """A new file is read with the fields the fit data was read with, not typed again: in these 25 new
    rows every protocol value differs, so typed afresh it would pass for an identifier and be left out,
    and the model needs it."""
    entry = get_registry().get("dataset", "events.table")
    fit = entry.create({"path": str(_write(tmp_path, _flows(), "fit.csv")), "split": "all"})
    with pytest.warns(UserWarning, match="left out"):
        list(fit.subsets())
    state = fit.export_source_state()
    assert state == {"entities": ["proto", "service"], "numeric": ["sbytes", "dur"]}
    lines = _flows(25).splitlines()
    lines = [lines[0]] + [",".join([*row.split(",")[:2], f"p{i}", *row.split(",")[3:]]) for i, row in enumerate(lines[1:])]
    new = entry.create({"path": str(_write(tmp_path, "\n".join(lines) + "\n", "new.csv")), "split": "all"})
    new.import_source_state(state)
    with pytest.warns(UserWarning, match="not fields of the model's fit data"):
        (subset,) = list(new.subsets())
    assert subset.meta["entities"] == ["proto", "service"] and subset.meta["numeric"] == ["sbytes", "dur"]
    short = entry.create({"path": str(_write(tmp_path, "proto,sbytes\ntcp,5\n", "short.csv")), "split": "all"})
    short.import_source_state(state)
    with pytest.raises(DataError, match=r"fitted on fields .* but this file has no \['service', 'dur'\]"):
        list(short.subsets())
    with pytest.raises(DataError, match="refit the model"):
        entry.create({"path": "x.csv", "split": "all"}).import_source_state({"channels": ["a"]})


def _cic(n: int = 60, attacks_only: bool = False) -> str:
    """A CIC-IDS2017 export: names with a leading space, a clock by the minute (few distinct values),
    ``Infinity`` rates and class names in `` Label``."""
    rng = np.random.default_rng(1)
    lines = [" Source IP, Destination Port, Timestamp, Flow Duration,Flow Bytes/s, Label"]
    for i in range(n):
        attack = attacks_only or i % 6 == 5
        duration = 0 if i % 15 == 7 else int(rng.integers(10, 999))
        rate = "Infinity" if duration == 0 else f"{rng.uniform(1, 99):.2f}"
        lines.append(f"10.0.0.{i % 7},{rng.choice([80, 443])},7/7/2017 9:{i // 20:02d},{duration},{rate},"
                     f"{['DDoS', 'PortScan'][i // 6 % 2] if attack else 'BENIGN'}")
    return "\n".join(lines) + "\n"


def test_a_cic_ids_export_reads_its_class_names_clock_and_infinite_rates(tmp_path: Path) -> None:
    path = _write(tmp_path, _cic())
    with pytest.warns(UserWarning) as caught:
        (subset,) = _load(path, split="all")
    said = " ".join(str(w.message) for w in caught)
    assert "column 'Timestamp' is left out" in said  # 3 distinct minutes in 60 rows: still a clock
    assert "rows ['BENIGN'] are read as normal, the other 2 classes (DDoS, PortScan)" in said
    assert "'Flow Bytes/s' holds 4 infinite cells" in said
    assert subset.meta["entities"] == ["Source IP"]
    assert subset.meta["numeric"] == ["Destination Port", "Flow Duration", "Flow Bytes/s"]
    assert subset.meta["counts"]["infinite_numbers"] == 4 and subset_counts(subset.meta)["infinite_numbers"] == 4
    rates = subset.test.samples.numeric[:, 2]
    assert np.isfinite(rates).all() and rates[7] == rates.max()  # the largest finite rate of the file
    assert subset.test.labels.sum() == 10 and subset.test.meta["categories"][11] == "PortScan"
    (named,) = _load(path, split="all", label_column=" Label", normal_labels=["BENIGN"])  # as the file spells it
    assert named.test.labels.tolist() == subset.test.labels.tolist()


def test_a_headerless_kdd_cup_99_file_reads_its_full_stop_class_names(tmp_path: Path) -> None:
    """KDD Cup 1999 has no header and ends each class name with a full stop (``normal.``, ``smurf.``)."""
    rows = [f"{i % 5},{['tcp', 'udp'][i % 2]},{['http', 'smtp', 'ftp'][i % 3]},{100 + i},"
            f"{'smurf.' if i % 7 == 6 else 'normal.'}" for i in range(42)]
    path = _write(tmp_path, "\n".join(rows) + "\n", "kddcup.data")
    with pytest.warns(UserWarning, match=r"rows \['normal.'\] are read as normal, the other class \(smurf.\)"):
        (subset,) = _load(path, format="csv", split="all",
                          columns=["duration", "protocol_type", "service", "src_bytes", "label"])
    assert subset.test.labels.sum() == 6 and subset.meta["entities"] == ["protocol_type", "service"]


def test_rows_repeating_the_header_are_dropped_and_counted(tmp_path: Path) -> None:
    """CSE-CIC-IDS2018's daily CSVs repeat their header line inside the data."""
    lines = _cic(40).splitlines()
    text = "\n".join([*lines[:11], lines[0], *lines[11:30], lines[0], *lines[30:]]) + "\n"
    with pytest.warns(UserWarning) as caught:
        (subset,) = _load(_write(tmp_path, text), split="all")
    said = " ".join(str(w.message) for w in caught)
    assert "2 row(s) repeat the header line (first: data row 11); dropped" in said
    assert "Label" not in subset.test.meta["categories"] and "numeric_text_cells" not in said
    assert subset.meta["counts"]["repeated_header_rows"] == 2 and len(subset.test.ids) == 40
    assert subset.test.ids[9:11] == ["row-9", "row-11"] and subset.test.ids[-1] == "row-41"  # the file's numbers
    with pytest.raises(DataError, match="every data row repeats the header"):
        _load(_write(tmp_path, "\n".join([lines[0]] * 3) + "\n", "headers.csv"), split="all")


def test_a_model_reads_an_attacks_only_file_with_its_fit_datas_class_names(tmp_path: Path) -> None:
    entry = get_registry().get("dataset", "events.table")
    fit = entry.create({"path": str(_write(tmp_path, _cic(), "fit.csv")), "split": "all"})
    with pytest.warns(UserWarning):
        list(fit.subsets())
    state = fit.export_source_state()
    assert state is not None and state["normal_labels"] == ["BENIGN"]
    new = entry.create({"path": str(_write(tmp_path, _cic(30, attacks_only=True), "attacks.csv")), "split": "all"})
    new.import_source_state(state)
    with pytest.warns(UserWarning, match="not fields of the model's fit data"):
        (subset,) = list(new.subsets())
    assert subset.test.labels.tolist() == [1] * 30
    with pytest.raises(DataError, match="not a list of names"):
        entry.create({"path": "x.csv", "split": "all"}).import_source_state({**state, "normal_labels": "BENIGN"})


def test_dates_are_told_from_versions_addresses_and_mixed_offsets(tmp_path: Path) -> None:
    rows = [f"1.{i % 3}.{i % 4},192.168.{i % 2}.{i % 5},2017-07-03T08:00:{i:02d}{'Z' if i % 2 else '+02:00'},{i % 7}"
            for i in range(40)]
    path = _write(tmp_path, "version,host,when,bytes\n" + "\n".join(rows) + "\n")
    with pytest.warns(UserWarning, match="'when' is left out") as caught:
        (subset,) = _load(path, split="all")
    assert not any("'version'" in str(w.message) or "'host'" in str(w.message) for w in caught)
    assert subset.meta["entities"] == ["version", "host"]


def test_column_names_that_meet_once_spaces_are_dropped_fail_clearly(tmp_path: Path) -> None:
    path = _write(tmp_path, "proto ,proto,bytes\ntcp,udp,1\n")
    with pytest.raises(DataError, match=r"columns \['proto'\] appear more than once"):
        _load(path, split="all")
