"""omniad-logs without its [neural] extra: the parser, loaders and count-vector detectors work without
torch; the neural detectors stay listed, marked with the extra, and fail at plan time with one line
naming it.

torch is installed in the test environment (the [test] extra pulls [neural]), so a fresh interpreter
blocks it (``omniad.testing.blocked``): to omniad it looks uninstalled, as in a torch-free install.
"""

from __future__ import annotations

from omniad.testing.blocked import check_without_extras

NEURAL = ["logs.deeplog", "logs.glad", "logs.loganomaly", "logs.logrobust", "logs.transformer"]


def test_parser_and_count_detectors_without_torch_and_neural_marked_with_the_extra() -> None:
    check_without_extras(
        "logs", ("torch",), {i: ["omniad-logs[neural]"] for i in NEURAL},
        classic=["logs.pca", "logs.invariant_mining", "logs.log_clustering", "logs.iforest", "logs.ocsvm"],
        dataset="logs.synthetic", dataset_params={"n_sessions": 120},  # generated, then parsed back
    )
