"""PatchCore: conformance, coreset and kNN against plain references, Eq. 7 by hand, behaviour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import omniad
from omniad import ConfigError
from omniad.metrics import roc_auc
from omniad_vision.detectors.patchcore.coreset import greedy_coreset
from omniad_vision.neighbors import NearestNeighbors, faiss_available
from omniad_vision.testing import TINY_BACKBONE, VisionDetectorConformance, tiny_subset, write_png

PARAMS = {**TINY_BACKBONE, "coreset_ratio": 0.25}


class TestPatchCoreConformance(VisionDetectorConformance):
    detector_id = "vision.patchcore"
    params = PARAMS



def naive_greedy(x: torch.Tensor, first: int, n: int) -> list[int]:
    chosen, best = [first], torch.full((len(x),), float("inf"))
    for _ in range(n - 1):
        best = torch.minimum(best, ((x - x[chosen[-1]]) ** 2).sum(1))
        best[chosen] = -1
        chosen.append(int(best.argmax()))
    return chosen


@pytest.mark.parametrize("d", [8, 64])
def test_pruned_coreset_equals_plain_greedy(d: int) -> None:
    x = torch.randn(3000, d, generator=torch.Generator().manual_seed(d))
    fast = greedy_coreset(x, 150, projection_dim=None, seed=5).tolist()
    assert fast == naive_greedy(x, fast[0], 150)
    assert len(set(fast)) == 150


def test_coreset_projection_and_edge_cases() -> None:
    x = torch.randn(500, 300, generator=torch.Generator().manual_seed(0))
    a = greedy_coreset(x, 40, projection_dim=16, seed=1)
    assert torch.equal(a, greedy_coreset(x, 40, projection_dim=16, seed=1))
    assert len(set(a.tolist())) == 40
    assert torch.equal(greedy_coreset(x, 600, seed=1), torch.arange(500))
    # k-center: the coreset's worst-case gap is far below a random subset's of the same size
    y = torch.randn(2000, 6, generator=torch.Generator().manual_seed(1))
    core = greedy_coreset(y, 60, seed=0)
    rand = torch.randperm(2000, generator=torch.Generator().manual_seed(0))[:60]
    assert torch.cdist(y, y[core]).min(1).values.max() < 0.9 * torch.cdist(y, y[rand]).min(1).values.max()


@pytest.mark.parametrize("backend", ["torch", "faiss"])
def test_knn_backends_are_exact_and_memory_bounded(backend: str) -> None:
    if backend == "faiss" and not faiss_available():
        pytest.skip("faiss not installed")
    gen = torch.Generator().manual_seed(0)
    bank, queries = torch.randn(700, 24, generator=gen), torch.randn(333, 24, generator=gen)
    ref = torch.cdist(queries.double(), bank.double())
    ref_d, ref_i = ref.topk(5, largest=False)
    # 1 MB blocks of a 700-row bank: many chunks, same answer
    d, i = NearestNeighbors(bank, backend=backend, memory_mb=1).search(queries, 5)
    assert torch.equal(i, ref_i)
    np.testing.assert_allclose(d.numpy(), ref_d.numpy(), rtol=1e-4, atol=1e-4)
    _, i1 = NearestNeighbors(bank, backend=backend).search(queries, 1)
    assert torch.equal(i1[:, 0], ref_i[:, 0])


def test_image_score_follows_equation_7() -> None:
    subset = tiny_subset("noise", n_train=6, n_normal=2, n_anomalous=2, size=48)
    det = omniad.create_detector("vision.patchcore", PARAMS, device="cpu", seed=0).fit(subset.train.samples)
    plain = omniad.create_detector("vision.patchcore", {**PARAMS, "score_reweighting": False}, device="cpu", seed=0)
    plain.fit(subset.train.samples)
    x = det.batches([subset.test.samples[3]], "t").__next__()[2]
    with torch.no_grad():
        emb = det.graph_.embed(x)[0].flatten(1).T  # (P, D)
        bank = det.memory_bank_
        dist = torch.cdist(emb.double(), bank.double())
        patch = dist.min(1).values
        j = int(patch.argmax())
        s_star, m_star = patch[j], int(dist[j].argmin())
        support = torch.cdist(bank[m_star : m_star + 1].double(), bank.double())[0].topk(9, largest=False).indices
        expected = (1 - torch.exp(s_star) / torch.exp(dist[j, support]).sum()) * s_star
    got = det.score([subset.test.samples[3]]).sample[0]
    assert got == pytest.approx(float(expected), rel=1e-4)
    assert plain.score([subset.test.samples[3]]).sample[0] == pytest.approx(float(s_star), rel=1e-4)


def test_finds_synthetic_defects() -> None:
    subset = tiny_subset("stripes", n_train=16, n_normal=10, n_anomalous=10, size=64)
    det = omniad.create_detector("vision.patchcore", PARAMS, device="cpu", seed=0).fit(subset.train.samples)
    scores = det.score(subset.test.samples)
    assert roc_auc(subset.test.labels, scores.sample) > 0.9  # measured 1.0 / pixel 0.985 (seeds 1-3: 1.0 / >= 0.990)
    y = np.concatenate([np.asarray(t).ravel() for t in subset.test.targets])
    assert roc_auc(y, np.concatenate([m.ravel() for m in scores.local])) > 0.9
    assert set(det.timings_) == {"features_s", "coreset_s", "support_s"}


def test_paths_and_mixed_sizes_give_maps_at_input_resolution(tmp_path: Path) -> None:
    subset = tiny_subset("noise", n_train=6, n_normal=2, n_anomalous=2, size=48)
    det = omniad.create_detector("vision.patchcore", PARAMS, device="cpu", seed=0).fit(subset.train.samples)
    big = np.kron(subset.test.samples[3], np.ones((2, 3, 1), np.uint8))  # 96 x 144
    path = write_png(tmp_path / "img.png", subset.test.samples[2])
    scores = det.score([big, str(path), subset.test.samples[2][..., 0]])
    assert [m.shape for m in scores.local] == [(96, 144), (48, 48), (48, 48)]
    assert scores.local[1].dtype == np.float32


def test_bad_configuration_is_clear() -> None:
    with pytest.raises(ConfigError, match="coreset_ratio"):
        omniad.create_detector("vision.patchcore", {**PARAMS, "coreset_ratio": 0})
    with pytest.raises(ConfigError, match="no feature layer 'layer9'"):  # caught by parameter validation now
        omniad.create_detector("vision.patchcore", {**PARAMS, "layers": ["layer9"]}, device="cpu")
