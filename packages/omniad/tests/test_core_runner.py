"""The shared runner: validation before work, failures recorded, resume, Ctrl-C, reports."""

from __future__ import annotations

import json

import pytest

from omniad.errors import ConfigError
from omniad.runner import ResultStore, load_config, parse_config, run

FLAKY = """
import numpy as np
from omniad import Detector, Scores, hookimpl

class Crash(Detector):
    def _fit(self, samples):
        raise RuntimeError("boom in fit")
    def _score(self, samples):
        raise AssertionError

class NaNs(Detector):
    def _fit(self, samples):
        pass
    def _score(self, samples):
        return Scores(sample=np.full(len(samples), np.nan))

class Interrupt(Detector):
    def _fit(self, samples):
        raise KeyboardInterrupt
    def _score(self, samples):
        raise AssertionError

@hookimpl
def omniad_register_detectors(registry):
    for name in ("Crash", "NaNs", "Interrupt"):
        registry.add(id=f"flaky.{name.lower()}", target=f"fake_omniad_flaky:{name}", modality="tabular", summary=name)
"""

SMALL = {"n_train": 40, "n_test_normal": 20, "n_test_anomalous": 5}


def config(tmp_path, detectors, datasets=None, **extra):
    data = {
        "output_dir": str(tmp_path / "out"),
        "detectors": detectors,
        "datasets": datasets or [{"id": "core.blobs", "params": SMALL}],
        "metrics": ["core.auroc", "core.aupr"],
        **extra,
    }
    return parse_config(data)


def test_broken_jobs_are_recorded_and_the_grid_goes_on(tmp_path, make_plugin) -> None:
    make_plugin("flaky", FLAKY)
    # a folder where the file should be: passes the plan's existence check, fails at load
    (tmp_path / "missing.csv").mkdir()
    cfg = config(
        tmp_path,
        [{"id": "core.knn"}, {"id": "flaky.crash"}, {"id": "flaky.nans"}],
        [{"id": "core.blobs", "params": SMALL}, {"id": "core.csv_table", "params": {"path": str(tmp_path / "missing.csv")}}],
    )
    result = run(cfg, progress=False)
    by = {(r["detector"]["id"], r["dataset"]["id"]): r for r in result.records}
    assert len(by) == 6
    ok = by[("core.knn", "core.blobs")]
    assert ok["status"] == "ok" and ok["metrics"]["core.auroc"] > 0.7  # measured 0.83 (25 test samples)
    assert by[("flaky.crash", "core.blobs")]["status"] == "failed"
    assert "boom in fit" in by[("flaky.crash", "core.blobs")]["error"]
    assert "non-finite" in by[("flaky.nans", "core.blobs")]["error"] or "NaN" in by[("flaky.nans", "core.blobs")]["error"]
    missing = by[("core.knn", "core.csv_table")]
    assert missing["status"] == "failed" and "missing.csv does not exist" in missing["error"]
    # provenance and timings are recorded
    assert ok["environment"]["omniad"] and ok["fit_s"] >= 0 and ok["peak_rss_mb"] > 0
    # reports written
    for name in ("results.csv", "results.md", "report.html"):
        assert (tmp_path / "out" / name).is_file()
    md = (tmp_path / "out" / "results.md").read_text()
    assert "core.knn" in md and "boom in fit" in md

    # rerun: finished jobs are skipped, failed ones retried by default
    again = run(cfg, progress=False)
    assert again.skipped == 1 and again.ran == 5
    never = run(config(tmp_path, [{"id": "core.knn"}, {"id": "flaky.crash"}, {"id": "flaky.nans"}],
                       [{"id": "core.blobs", "params": SMALL}, {"id": "core.csv_table", "params": {"path": str(tmp_path / "missing.csv")}}],
                       rerun="never"), progress=False)
    assert never.ran == 0 and never.skipped == 6


def test_adding_a_metric_reruns_only_what_lacks_it(tmp_path) -> None:
    run(config(tmp_path, [{"id": "core.knn"}]), progress=False)
    result = run(config(tmp_path, [{"id": "core.knn"}], metrics=["core.auroc", "core.f1_max"]), progress=False)
    assert result.ran == 1
    record = result.records[0]
    assert "core.f1_max.threshold" in record["metrics"]


def test_ctrl_c_keeps_finished_jobs(tmp_path, make_plugin) -> None:
    make_plugin("flaky", FLAKY)
    cfg = config(tmp_path, [{"id": "core.knn"}, {"id": "flaky.interrupt"}, {"id": "core.mahalanobis"}])
    with pytest.raises(KeyboardInterrupt):
        run(cfg, progress=False)
    store = ResultStore(tmp_path / "out")
    assert [r["detector"]["id"] for r in store.records()] == ["core.knn"]
    assert not list((tmp_path / "out" / "jobs").glob(".tmp-*"))


def test_grid_expansion_seeds_and_labels(tmp_path) -> None:
    cfg = config(tmp_path, [{"id": "core.knn", "grid": {"n_neighbors": [1, 5]}}, {"id": "core.random"}], seeds=[0, 1])
    result = run(cfg, progress=False)
    assert len(result.records) == 6
    labels = {r["detector"]["label"] for r in result.records}
    assert labels == {"core.knn(n_neighbors=1)", "core.knn", "core.random"}
    md = (tmp_path / "out" / "results.md").read_text()
    assert "±" in md  # std over the two seeds


def test_validation_happens_before_any_job(tmp_path) -> None:
    with pytest.raises(ConfigError) as info:
        run(config(tmp_path, [{"id": "core.knnn"}, {"id": "core.knn", "params": {"k": 3}}]), progress=False)
    text = str(info.value)
    assert "did you mean 'core.knn'" in text and "unknown parameter 'k'" in text
    assert not (tmp_path / "out" / "jobs").exists()


def test_config_files(tmp_path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text('output_dir = "x"\n[[detectors]]\nid = "core.knn"\n[[datasets]]\nid = "core.blobs"\n')
    assert load_config(toml).detectors[0].id == "core.knn"
    yaml_file = tmp_path / "c.yaml"
    yaml_file.write_text("detectors: [{id: core.knn}]\ndatasets: [{id: core.blobs}]\nmetrics: [core.auroc]\n")
    assert load_config(yaml_file).metrics[0].id == "core.auroc"
    bad = tmp_path / "bad.toml"
    bad.write_text("detectors = [\n")
    with pytest.raises(ConfigError, match="bad.toml: cannot parse"):
        load_config(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="unknown parameter 'detector'"):
        parse_config({"detector": [], "datasets": [{"id": "core.blobs"}]})


def test_process_executor_gives_same_results(tmp_path) -> None:
    inline = run(config(tmp_path / "a", [{"id": "core.knn"}, {"id": "core.mahalanobis"}]), progress=False)
    pooled = run(config(tmp_path / "b", [{"id": "core.knn"}, {"id": "core.mahalanobis"}], executor="process", workers=2), progress=False)
    a = {r["key"]: r["metrics"] for r in inline.records}
    b = {r["key"]: r["metrics"] for r in pooled.records}
    assert a == b


def test_corrupt_record_reruns(tmp_path) -> None:
    cfg = config(tmp_path, [{"id": "core.knn"}])
    first = run(cfg, progress=False)
    path = ResultStore(tmp_path / "out").path(first.records[0]["key"])
    path.write_text("{truncated")
    assert run(cfg, progress=False).ran == 1
    assert json.loads(path.read_text())["status"] == "ok"


def test_config_files_that_cannot_be_read_fail_in_one_line(tmp_path, monkeypatch) -> None:
    import subprocess
    import sys
    from pathlib import Path

    utf16 = tmp_path / "grid.toml"
    utf16.write_bytes(b"\xff\xfe\x00b")
    folder = tmp_path / "grid.yaml"
    folder.mkdir()
    for path, says in ((utf16, "not UTF-8 text (it looks like UTF-16): byte 0xff on line 1 (offset 0)"),
                       (folder, "is a directory, not a config file")):
        proc = subprocess.run([sys.executable, "-m", "omniad", "validate", str(path)], capture_output=True,
                              text=True, timeout=300)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
        assert str(path) in lines[0] and says in lines[0], lines
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('seeds = [0]\nname = "r\xe9sultats"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1.toml: not UTF-8 text: byte 0xe9 on line 2 \(offset 21\); save the config as UTF-8"):
        load_config(latin1)
    bom = tmp_path / "bom.toml"  # a UTF-8 byte order mark is fine
    bom.write_bytes(b"\xef\xbb\xbf" + b'[[detectors]]\nid = "core.knn"\n[[datasets]]\nid = "core.blobs"\n')
    assert load_config(bom).detectors[0].id == "core.knn"

    def unreadable(self, *args, **kwargs):  # chmod 000 does not stop root, who runs some CI
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", unreadable)
    with pytest.raises(ConfigError, match=r"cannot read config file .*bom.toml \(Permission denied\)"):
        load_config(bom)


def test_two_components_under_one_name_are_rejected(tmp_path) -> None:
    from omniad.plugins import get_registry
    from omniad.runner import plan

    blobs = {"id": "core.blobs", "params": SMALL}
    with pytest.raises(ConfigError) as info:
        config(tmp_path, [{"id": "core.knn", "name": "mine"}, {"id": "core.random"},
                          {"id": "core.mahalanobis", "name": "mine"}])
    assert str(info.value).count("\n") == 0
    assert "detectors[0] (core.knn) and detectors[2] (core.mahalanobis) share the label 'mine'" in str(info.value)
    with pytest.raises(ConfigError, match=r"datasets\[0\] \(core.blobs .*\) and datasets\[1\] \(core.blobs .*"
                                          r"\"n_train\": 60.*\) share the label 'data'"):
        config(tmp_path, [{"id": "core.knn"}], [{**blobs, "name": "data"},
                                                {"id": "core.blobs", "params": {**SMALL, "n_train": 60}, "name": "data"}])
    # a grid under a name expands into distinct labels; the same component twice is no label clash
    ok = config(tmp_path, [{"id": "core.knn", "name": "k", "grid": {"n_neighbors": [1, 3]}}], [blobs])
    assert len(plan(ok, get_registry())) == 2
    twice = config(tmp_path, [{"id": "core.knn", "name": "k"}, {"id": "core.knn", "name": "k"}], [blobs])
    with pytest.raises(ConfigError, match="same detector/dataset/seed combination twice"):
        plan(twice, get_registry())
    # a name that is another component's derived label is caught when the plan derives it
    clash = config(tmp_path, [{"id": "core.knn"}, {"id": "core.mahalanobis", "name": "core.knn"}], [blobs])
    with pytest.raises(ConfigError, match=r"detector \(core.knn .*\) and detector \(core.mahalanobis.*\) share the label 'core.knn'"):
        plan(clash, get_registry())
