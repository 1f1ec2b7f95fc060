"""PatchCore under max_memory_gb: the plan, exact = unchanged, chunked = union of chunk coresets, reported."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import omniad
from omniad import ConfigError
from omniad.errors import DataError
from omniad_vision.detectors.patchcore.coreset import greedy_coreset
from omniad_vision.detectors.patchcore.memory import GIB, BankBuilder, plan_memory
from omniad_vision.testing import TINY_BACKBONE, tiny_subset

#: 256 patches of 192 features per 64 px image; a 1 MB search block so small caps are meaningful
PARAMS = {**TINY_BACKBONE, "coreset_ratio": 0.25, "knn_memory_mb": 1}
PLAN = {"coreset_ratio": 0.1, "projection_dim": 128, "num_neighbors": 9, "knn_memory_mb": 1, "chunk_patches": None,
        "where": "t"}


def plan(patches: int, dim: int = 192, ppi: int = 100, **kw: object):  # type: ignore[no-untyped-def]
    return plan_memory(patches, dim, patches_per_image=ppi, **{**PLAN, **kw})  # type: ignore[arg-type]


def features(n: int, d: int, seed: int = 0) -> torch.Tensor:
    """Clustered points (k-center has something to find) in random order of images of 100 patches."""
    gen = torch.Generator().manual_seed(seed)
    centers = torch.randn(12, d, generator=gen) * 4
    return centers[torch.randint(12, (n,), generator=gen)] + torch.randn(n, d, generator=gen)


def build(x: torch.Tensor, p, batch: int, seed: int = 3) -> torch.Tensor:  # type: ignore[no-untyped-def]
    builder = BankBuilder(p, patches_per_image=100, projection_dim=128, seed=seed, device="cpu")
    for start in range(0, len(x), batch):
        builder.add(x[start : start + batch])
    return builder.finish()


def test_plan_is_exact_when_it_fits_and_chunked_under_the_cap() -> None:
    free = plan(100_000, max_memory_gb=None)
    assert free.exact and free.chunks == 1 and free.bank_rows == 10_000 and free.coreset_ratio == 0.1
    assert plan(100_000, max_memory_gb=free.exact_gb * 1.01).exact
    capped = plan(100_000, max_memory_gb=free.exact_gb / 3)
    assert not capped.exact and capped.chunks >= 3
    assert capped.chunk_patches % 100 == 0 and capped.estimated_gb <= free.exact_gb / 3
    assert capped.coreset_ratio == 0.1 and capped.bank_rows == pytest.approx(10_000, abs=capped.chunks)
    # an explicit chunk size splits even without a cap (and is rounded down to whole images)
    chunked = plan(100_000, max_memory_gb=None, chunk_patches=25_050)
    assert chunked.chunks == 4 and chunked.chunk_patches == 25_000


def test_plan_lowers_the_bank_when_it_alone_passes_half_the_cap() -> None:
    bank_gb = 10_000 * (192 * 4 + 9 * 12) / GIB
    p = plan(100_000, max_memory_gb=bank_gb)  # bank needs the whole cap: lowered to half of it
    assert p.coreset_ratio == pytest.approx(0.05, rel=1e-3) and p.bank_rows <= 5_000
    assert p.estimated_gb <= bank_gb


def test_plan_rejects_caps_too_small_for_one_image() -> None:
    with pytest.raises(DataError, match=r"max_memory_gb=1e-05 cannot hold one image's 100 patches.*use max_memory_gb >= "):
        plan(100_000, max_memory_gb=1e-5)
    with pytest.raises(DataError, match="coreset_chunk_size=50 is smaller than one image's 100 patches; use at least 100"):
        plan(100_000, max_memory_gb=None, chunk_patches=50)


def test_one_chunk_is_the_exact_coreset_whatever_the_batches() -> None:
    x = features(3000, 192)
    p = plan(3000, max_memory_gb=None)
    exact = x[greedy_coreset(x, 300, projection_dim=128, seed=3)]
    for batch in (3000, 128, 777):
        assert torch.equal(build(x, p, batch), exact)


def test_chunked_bank_is_the_union_of_chunk_coresets_and_covers_within_their_radii() -> None:
    x = features(4000, 32)
    p = plan(4000, dim=32, max_memory_gb=None, chunk_patches=1000)
    assert p.chunks == 4
    bank = build(x, p, 333)
    parts, radii = [], []
    for i in range(4):
        chunk = x[i * 1000 : (i + 1) * 1000]
        core = chunk[greedy_coreset(chunk, 100, projection_dim=128, seed=3 + i)]
        parts.append(core)
        radii.append(torch.cdist(chunk, core).min(1).values.max())
    assert torch.equal(bank, torch.cat(parts))
    # the composable-coreset bound: every point is within its own chunk's greedy radius of the bank
    assert torch.cdist(x, bank).min(1).values.max() <= max(radii) + 1e-4
    # and, on this data, the union covers nearly as tightly as the exact coreset of the same size
    exact = x[greedy_coreset(x, 400, projection_dim=128, seed=3)]
    r_exact = torch.cdist(x, exact).min(1).values.max()
    r_chunked = torch.cdist(x, bank).min(1).values.max()
    assert r_chunked < 1.5 * r_exact  # measured 1.05x (exact seeds 3-5)


def fit(params: dict, n_train: int = 12):  # type: ignore[no-untyped-def, type-arg]
    subset = tiny_subset("noise", n_train=n_train, n_normal=2, n_anomalous=2, size=64)
    return omniad.create_detector("vision.patchcore", params, device="cpu", seed=0), subset


def test_default_fit_is_the_exact_coreset_of_all_patches_and_says_so() -> None:
    det, subset = fit(PARAMS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        det.fit(subset.train.samples)
    assert det.adjusted_params == {}
    assert det.coreset_["exact"] and det.coreset_["chunks"] == 1 and det.coreset_["patches"] == 12 * 256
    x = torch.cat([det.graph_.embed(b[2]) for b in det.batches(subset.train.samples, "t")])
    x = x.permute(0, 2, 3, 1).reshape(-1, x.shape[1])
    keep = greedy_coreset(x, int(len(x) * 0.25), projection_dim=128, seed=0)
    np.testing.assert_allclose(det.memory_bank_.numpy(), x[keep].numpy(), rtol=1e-5, atol=1e-5)
    assert det.provenance()["coreset"]["method"] == "exact greedy"


def test_the_cap_chunks_lowers_the_bank_and_reports_it(tmp_path: Path) -> None:
    first = fit(PARAMS)[0].fit(fit(PARAMS)[1].train.samples).coreset_
    reserve, exact_gb = first["reserve_gb"], first["exact_gb"]
    assert 0.75 < reserve < exact_gb  # the runtime, backbone and a batch count against the cap too
    cap = reserve + (exact_gb - reserve) / 2
    det, subset = fit({**PARAMS, "max_memory_gb": cap})
    with pytest.warns(UserWarning, match=r"over max_memory_gb=.*using a chunked approximate coreset \(\d+ chunks"):
        det.fit(subset.train.samples)
    assert not det.coreset_["exact"] and det.coreset_["chunks"] >= 2
    assert det.adjusted_params["coreset"]["requested"] == "exact greedy"
    assert len(det.memory_bank_) == det.coreset_["bank_rows"] == pytest.approx(0.25 * 12 * 256, abs=det.coreset_["chunks"])
    assert det.coreset_["estimated_gb"] <= cap
    loaded = omniad.load_detector(det.save(tmp_path / "m"))
    assert loaded.coreset_ == det.coreset_
    np.testing.assert_allclose(loaded.score(subset.test.samples).sample, det.score(subset.test.samples).sample, rtol=1e-5)
    # a cap the bank alone fills (every patch kept: 3,072 rows of 876 bytes): the ratio is lowered, warned, recorded
    bank_gb = 12 * 256 * (192 * 4 + 9 * 12) / GIB
    small, _ = fit({**PARAMS, "coreset_ratio": 1.0, "max_memory_gb": reserve + 1.5 * bank_gb})
    with pytest.warns(UserWarning, match=r"coreset_ratio 1.0 lowered to 0\.\d+"):
        small.fit(subset.train.samples)
    used = small.adjusted_params["coreset_ratio"]["used"]
    assert used == pytest.approx(0.75, rel=1e-3)  # the bank gets half the cap
    assert len(small.memory_bank_) == small.coreset_["bank_rows"] <= 0.75 * 12 * 256


def test_explicit_chunks_are_recorded_without_warning() -> None:
    det, subset = fit({**PARAMS, "coreset_chunk_size": 4 * 256})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        det.fit(subset.train.samples)
    assert det.coreset_["chunks"] == 3 and det.adjusted_params == {}
    # a cap that only allows smaller chunks than asked for says so, naming what was asked
    reserve, exact_gb = det.coreset_["reserve_gb"], det.coreset_["exact_gb"]
    tight, _ = fit({**PARAMS, "coreset_chunk_size": 4 * 256, "max_memory_gb": reserve + (exact_gb - reserve) / 2})
    with pytest.warns(UserWarning, match="chunked approximate coreset"):
        tight.fit(subset.train.samples)
    assert tight.coreset_["chunks"] > 3
    assert tight.adjusted_params["coreset"]["requested"] == "chunks of <= 1024 patches"


@pytest.mark.parametrize(
    ("params", "match"),
    [({"max_memory_gb": 0}, "max_memory_gb"), ({"max_memory_gb": -2}, "max_memory_gb"),
     ({"max_memory_gb": float("nan")}, "max_memory_gb"), ({"max_memory_gb": "lots"}, "max_memory_gb"),
     ({"coreset_chunk_size": 0}, "coreset_chunk_size"), ({"coreset_chunk_size": 2.5}, "coreset_chunk_size")],
)
def test_bad_values_fail_in_one_line(params: dict, match: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError, match=match) as info:
        omniad.create_detector("vision.patchcore", {**PARAMS, **params})
    assert "\n" not in str(info.value)


def test_a_cap_below_one_image_fails_at_fit_naming_the_least() -> None:
    det, subset = fit({**PARAMS, "max_memory_gb": 1e-4})
    with pytest.raises(DataError, match=r"vision.patchcore.fit: max_memory_gb=0.0001 cannot hold .* use max_memory_gb >= "):
        det.fit(subset.train.samples)
