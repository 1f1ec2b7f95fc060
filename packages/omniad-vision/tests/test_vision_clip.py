"""WinCLIP on a tiny random CLIP saved offline: end to end, windows, prompts, few-shot, errors.

No quality is claimed here: a random CLIP has no idea what a defect is. These tests check
the plumbing (maps of the right shape, harmonic aggregation, the few-shot memory, clear
errors for missing or wrong weight directories).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from omniad import ConfigError, DataError, Detector
from omniad.plugins import get_registry
from omniad_vision.detectors.clip.prompts import ANOMALOUS_STATES, NORMAL_STATES, TEMPLATES, prompt_ensemble
from omniad_vision.detectors.clip.windows import harmonic_to_patches, window_indices
from omniad_vision.testing import VisionDetectorConformance, tiny_subset

DIRS: dict[str, Path] = {}


def save_tiny_clip(path: Path) -> Path:
    """A 1-layer, 32-wide CLIP with a character-level tokenizer, written with save_pretrained."""
    from transformers import CLIPConfig, CLIPModel, CLIPTokenizer

    torch.manual_seed(0)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in "abcdefghijklmnopqrstuvwxyz.-":
        vocab.setdefault(ch, len(vocab))
        vocab.setdefault(ch + "</w>", len(vocab))
    CLIPTokenizer(vocab=vocab, merges=[]).save_pretrained(path)
    text = {"vocab_size": len(vocab), "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
            "num_attention_heads": 2, "max_position_embeddings": 77, "bos_token_id": 0, "eos_token_id": 1,
            "pad_token_id": 1}
    vision = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
              "image_size": 32, "patch_size": 8}
    CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=16)).save_pretrained(path)
    return path


@pytest.fixture(autouse=True, scope="module")
def _tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> None:
    DIRS["clip"] = save_tiny_clip(tmp_path_factory.mktemp("tiny_clip"))


def synthetic():
    return tiny_subset(n_train=4, n_normal=3, n_anomalous=3, size=48)


def winclip(**params: object) -> Detector:
    return get_registry().get("detector", "vision.winclip").create(
        {"weights_dir": str(DIRS["clip"]), **params}, device="cpu", seed=0
    )


class TestWinCLIPConformance(VisionDetectorConformance):
    detector_id = "vision.winclip"

    @property
    def params(self) -> dict[str, object]:  # the tiny model is written by a fixture, after collection
        return {"weights_dir": str(DIRS["clip"]), "object_name": "stripes", "batch_size": 4}


def test_window_indices_cover_the_grid_row_major() -> None:
    idx = window_indices((3, 3), 2)
    assert idx.tolist() == [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]
    assert window_indices((2, 5), 3).shape == (3, 6)  # clipped to 2x3: never larger than the grid


def test_harmonic_aggregation_by_hand() -> None:
    idx = window_indices((2, 3), 2)  # windows {0,1,3,4} and {1,2,4,5}
    scores = torch.tensor([[0.5, 0.25]])
    out = harmonic_to_patches(scores, idx, 6)[0]
    # patches 1 and 4 are covered by both windows: 2 / (1/0.5 + 1/0.25) = 1/3
    np.testing.assert_allclose(out.numpy(), [0.5, 1 / 3, 0.25, 0.5, 1 / 3, 0.25], rtol=1e-6)


def test_prompt_ensemble_is_states_times_templates() -> None:
    normal, anomalous = prompt_ensemble("metal plate")
    assert len(normal) == len(NORMAL_STATES) * len(TEMPLATES) == 7 * 22
    assert len(anomalous) == len(ANOMALOUS_STATES) * len(TEMPLATES) == 4 * 22
    assert "a photo of the metal plate with defect." in anomalous
    assert all("metal plate" in p for p in normal + anomalous)
    with pytest.raises(ConfigError, match="placeholder"):
        get_registry().get("detector", "vision.winclip").create({"templates": ["a photo"]})


def test_zero_shot_fit_learns_nothing_and_maps_match_inputs() -> None:
    subset = synthetic()
    a = winclip(image_size=48).fit(subset.train.samples).score(subset.test.samples)
    b = winclip(image_size=48).fit(subset.test.samples[:2]).score(subset.test.samples)
    np.testing.assert_array_equal(a.sample, b.sample)
    assert [m.shape for m in a.local] == [t.shape for t in subset.test.targets]
    assert np.all((a.sample > 0) & (a.sample < 1))  # softmax probabilities of "anomalous"
    odd = np.random.default_rng(0).integers(0, 255, (40, 56, 3), dtype=np.uint8)
    assert winclip().fit(subset.train.samples).score([odd]).local[0].shape == (40, 56)


def test_few_shot_reference_image_scores_lowest(tmp_path: Path) -> None:
    subset = synthetic()
    det = winclip(k_shot=2, scales=(2,)).fit(subset.train.samples)
    assert det.references_["patches"].shape[0] == 2 * 16  # 2 images x 4x4 patches
    probe = [subset.train.samples[0], *subset.test.samples]
    few = det.score(probe)
    zero = winclip(scales=(2,)).fit(subset.train.samples).score(probe)
    # the reference image matches itself exactly: its few-shot part is 0, so its score halves
    assert few.sample[0] == pytest.approx(zero.sample[0] / 2, rel=1e-4)
    assert np.all(few.sample[1:] - zero.sample[1:] / 2 > 0)
    det.save(tmp_path / "m")
    np.testing.assert_allclose(Detector.load(tmp_path / "m", device="cpu").score(probe).sample, few.sample, rtol=1e-5)


def test_patch_token_variant_without_windows() -> None:
    subset = synthetic()
    scores = winclip(scales=()).fit(subset.train.samples).score(subset.test.samples)
    assert np.ptp(scores.sample) > 0 and scores.local[0].shape == (48, 48)


def test_missing_or_wrong_weights_say_what_to_pass(tmp_path: Path) -> None:
    train = synthetic().train.samples
    entry = get_registry().get("detector", "vision.winclip")
    with pytest.raises(ConfigError, match=r"pass weights_dir='/path/to/clip"):
        entry.create({}, device="cpu").fit(train)
    with pytest.raises(DataError, match="is not a directory"):
        entry.create({"weights_dir": str(tmp_path / "nope")}, device="cpu").fit(train)
    with pytest.raises(DataError, match="no config.json"):
        entry.create({"weights_dir": str(tmp_path)}, device="cpu").fit(train)
    no_tok = tmp_path / "no_tokenizer"
    no_tok.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(DIRS["clip"] / name, no_tok / name)
    with pytest.raises(DataError, match="tokenizer"):
        entry.create({"weights_dir": str(no_tok)}, device="cpu").fit(train)
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text('{"model_type": "dinov2"}')
    (other / "model.safetensors").write_bytes(b"")
    with pytest.raises(DataError, match="not 'clip'"):
        entry.create({"weights_dir": str(other)}, device="cpu").fit(train)
    with pytest.raises(ConfigError, match="multiple of the CLIP patch size 8"):
        winclip(image_size=44).fit(train)
    with pytest.raises(DataError, match="k_shot=9"):
        winclip(k_shot=9).fit(train)


def test_scales_larger_than_the_patch_grid_fail_instead_of_shrinking() -> None:
    from omniad.errors import ConfigError

    with pytest.raises(ConfigError, match=r"scales=\(2, 9\) but the CLIP patch grid of this input is 4x4; "
                                          "use windows of at most 4 patches"):
        winclip(scales=(2, 9)).fit(synthetic().train.samples)
