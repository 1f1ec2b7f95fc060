"""omniad-timeseries without its [neural] and [numba] extras: the classic detectors work without torch,
tslearn, stumpy or numba; the neural ones (and numba's KShapeAD) stay listed, marked with their extra,
and fail at plan time with one line naming it.

The extras are installed in the test environment (the [test] extra pulls them), so a fresh interpreter
blocks them (``omniad.testing.blocked``): to omniad they look uninstalled, as in a plain install.
"""

from __future__ import annotations

from omniad.testing.blocked import check_without_extras

NEURAL = ["timeseries.autoencoder", "timeseries.cnn", "timeseries.lstm_ad", "timeseries.oraclead",
          "timeseries.timercd", "timeseries.transformer", "timeseries.usad"]
NEEDS = {**{i: ["omniad-timeseries[neural]"] for i in NEURAL}, "timeseries.kshapead": ["omniad-timeseries[numba]"]}

# matrix_profile's 'auto' backend joins a series longer than stumpy's threshold in numpy when stumpy is
# missing; asking for backend='stumpy' by name is a plan-time problem naming the [numba] extra
PROFILE = """
from omniad.runner.config import ComponentSpec, RunConfig
from omniad.runner.jobs import plan
from omniad.errors import ConfigError

long = omniad.create_dataset("timeseries.synthetic", {"n_series": 1, "length": 20400, "train_length": 300}).load()[0]
omniad.create_detector("timeseries.matrix_profile", {"window": 50}).fit(long.train.samples).score(long.test.samples)
config = RunConfig(output_dir=tempfile.mkdtemp(), seeds=[0], datasets=[ComponentSpec(id="timeseries.synthetic")],
                   detectors=[ComponentSpec(id="timeseries.matrix_profile", params={"backend": "stumpy"})])
try:
    plan(config, registry)
    raise AssertionError("backend='stumpy' planned without stumpy")
except ConfigError as exc:
    assert str(exc).endswith("pip install 'omniad-timeseries[numba]'"), str(exc)
"""


def test_classic_path_without_extras_and_the_rest_marked_with_theirs() -> None:
    check_without_extras(
        "timeseries", ("torch", "tslearn", "stumpy", "numba"), NEEDS,
        classic=["timeseries.sub_pca", "timeseries.iforest", "timeseries.seasonal", "timeseries.matrix_profile",
                 "timeseries.ensemble", "timeseries.hampel"],
        dataset="timeseries.synthetic", dataset_params={"n_series": 1, "length": 800, "train_length": 300},
        code=PROFILE,
    )
