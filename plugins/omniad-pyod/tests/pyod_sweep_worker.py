"""Exercise every registered ``pyod.*`` detector on tiny data and print one JSON report.

Run by ``test_pyod_sweep.py`` in a subprocess with ``NUMBA_DISABLE_JIT=1``: several PyOD
models compile numba kernels on first use (2-20 s each on a small machine), which would
dominate the test time; on 30-sample inputs the interpreted kernels take milliseconds.
Not a test module itself (no ``test_`` prefix).
"""

from __future__ import annotations

import json
import sys
import tempfile
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import numpy as np

import omniad
from omniad.errors import DataError
from omniad.testing.detector import tampering_problems


def subset() -> omniad.Subset:
    params = {"n_train": 40, "n_test_normal": 25, "n_test_anomalous": 5, "n_features": 4}
    return omniad.create_dataset("core.blobs", params).load()[0]


def data_for(entry: Any, sub: omniad.Subset) -> tuple[np.ndarray, np.ndarray]:
    train, test = np.asarray(sub.train.samples), np.asarray(sub.test.samples)
    if entry.id == "pyod.mad":
        train, test = train[:, :1], test[:, :1]
    return (test if entry.card.fit_on == "test" else train), test


def check(entry: Any, sub: omniad.Subset, workdir: Path) -> dict[str, Any]:
    fit_data, test = data_for(entry, sub)
    det = entry.create({}, seed=0, device="cpu").fit(fit_data)
    scores = det.score(test).sample
    report: dict[str, Any] = {
        "n_scores": len(scores),
        "finite": bool(np.all(np.isfinite(scores))),
        "spread": float(np.ptp(scores)),
        "fit_on": entry.card.fit_on,
    }
    if entry.card.fit_on == "train":
        alone = np.array([det.score(test[i : i + 1]).sample[0] for i in range(3)])
        head = det.score(test[:7]).sample
        report["batch_dependence"] = float(max(np.abs(alone - scores[:3]).max(), np.abs(head - scores[:7]).max()))
    det.save(workdir / entry.id)
    report["reload_difference"] = float(np.abs(omniad.load_detector(str(workdir / entry.id), device="cpu").score(test).sample - scores).max())
    other = entry.create({"contamination": 0.3}, seed=0, device="cpu").fit(fit_data).score(test).sample
    report["contamination_effect"] = float(np.ptp(other - scores))
    try:
        det.score(np.zeros((2, test.shape[1] + 1)))
        report["wrong_width"] = "accepted"
    except DataError as exc:
        report["wrong_width"] = str(exc)
    tamper_dir = workdir / f"{entry.id}-tampered"
    tamper_dir.mkdir()
    report["tampered"] = tampering_problems(det, test[:3] if entry.card.fit_on == "train" else test, tamper_dir)
    return report


def main() -> None:
    sub = subset()
    results: dict[str, Any] = {}
    # Whatever PyOD prints must not corrupt the JSON on stdout.
    with tempfile.TemporaryDirectory() as tmp, redirect_stdout(sys.stderr):
        for entry in omniad.get_registry().list("detector"):
            if entry.plugin != "pyod":
                continue
            try:
                results[entry.id] = check(entry, sub, Path(tmp))
            except Exception as exc:  # reported per detector, asserted by the test
                results[entry.id] = {"error": f"{type(exc).__name__}: {exc}"}
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
