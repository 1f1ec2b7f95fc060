"""Every registered ``pyod.*`` detector, end to end: fit, score, reload, batch independence.

Also the conformance kit's edited model folders for every detector (the kit itself runs on a
representative dozen in ``test_pyod_conformance.py``).

One subprocess runs ``pyod_sweep_worker.py`` over all detectors with numba's JIT off (see
the worker's docstring); each check below is one parametrized test per detector.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from omniad_pyod.catalog import CATALOG

WORKER = Path(__file__).with_name("pyod_sweep_worker.py")
ALL = sorted(spec.id for spec in CATALOG.values())
FITTED = sorted(spec.id for spec in CATALOG.values() if spec.scoring != "transductive")


@pytest.fixture(scope="module")
def sweep() -> dict[str, dict[str, Any]]:
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    proc = subprocess.run(
        [sys.executable, str(WORKER)], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def report(sweep: dict[str, dict[str, Any]], detector_id: str) -> dict[str, Any]:
    assert detector_id in sweep, f"{detector_id} is not registered"
    result = sweep[detector_id]
    assert "error" not in result, result.get("error")
    return result


def test_sweep_covers_every_registered_detector(sweep: dict[str, dict[str, Any]]) -> None:
    assert sorted(sweep) == ALL


@pytest.mark.parametrize("detector_id", ALL)
def test_fits_and_scores(sweep: dict[str, dict[str, Any]], detector_id: str) -> None:
    r = report(sweep, detector_id)
    assert r["n_scores"] == 30 and r["finite"]
    assert r["spread"] > 0, "all samples got the same score"
    assert r["fit_on"] == ("test" if CATALOG[detector_id.split(".")[1]].scoring == "transductive" else "train")


@pytest.mark.parametrize("detector_id", ALL)
def test_reload_reproduces_scores(sweep: dict[str, dict[str, Any]], detector_id: str) -> None:
    r = report(sweep, detector_id)
    assert r["reload_difference"] <= 1e-9 * (1 + r["spread"])


@pytest.mark.parametrize("detector_id", FITTED)
def test_score_does_not_depend_on_the_rest_of_the_batch(sweep: dict[str, dict[str, Any]], detector_id: str) -> None:
    r = report(sweep, detector_id)
    assert r["batch_dependence"] <= 1e-9 * (1 + r["spread"])


@pytest.mark.parametrize("detector_id", ALL)
def test_contamination_does_not_change_scores(sweep: dict[str, dict[str, Any]], detector_id: str) -> None:
    """What the README and the parameter description promise about ``contamination``."""
    r = report(sweep, detector_id)
    assert r["contamination_effect"] <= 1e-9 * (1 + r["spread"])


@pytest.mark.parametrize("detector_id", ALL)
def test_wrong_feature_count_is_a_clear_error(sweep: dict[str, dict[str, Any]], detector_id: str) -> None:
    assert "fitted on" in report(sweep, detector_id)["wrong_width"]


@pytest.mark.parametrize("detector_id", ALL)
def test_edited_model_folder_fails_at_load_or_scores_cleanly(sweep: dict[str, dict[str, Any]], detector_id: str) -> None:
    """Declared state (``state_spec``): an edited folder fails at load naming it, never inside PyOD at score."""
    problems = report(sweep, detector_id)["tampered"]
    assert not problems, "\n".join(problems)
