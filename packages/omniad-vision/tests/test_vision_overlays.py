"""Heat-map pictures (the public ``omniad_vision.overlays``): shared colour scale, outlines, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from omniad import ConfigError, DataError
from omniad_vision.overlays import (
    GT_COLOUR,
    REGION_COLOUR,
    colorize,
    decision_picture,
    outline,
    overlay,
    save_png,
    triptych,
)


def test_colour_scale_is_shared_not_per_image() -> None:
    low, high = np.zeros((4, 4)), np.ones((4, 4))
    np.testing.assert_array_equal(colorize(low, 0.0, 1.0)[0, 0], colorize(np.zeros((1, 1)), 0.0, 1.0)[0, 0])
    assert not np.array_equal(colorize(low, 0.0, 1.0), colorize(high, 0.0, 1.0))
    np.testing.assert_array_equal(colorize(high * 5, 0.0, 1.0), colorize(high, 0.0, 1.0))  # clipped


def test_outline_marks_only_the_boundary() -> None:
    mask = np.zeros((12, 12), np.uint8)
    mask[3:9, 3:9] = 1
    drawn = outline(np.zeros((12, 12, 3), np.uint8), mask, width=1)
    green = np.all(drawn == (0, 255, 0), axis=2)
    assert green[3, 3] and green[8, 5] and not green[5, 5] and not green[0, 0]


def test_triptych_and_errors(tmp_path: Path) -> None:
    image = np.full((200, 300, 3), 120, np.uint8)
    mask = np.zeros((200, 300), np.uint8)
    mask[50:80, 60:90] = 1
    pic = triptych(image, mask, mask.astype(float), 0.0, 1.0, title="x")
    assert pic.shape == (200, 3 * 300 + 8, 3) and pic.dtype == np.uint8
    path = save_png(pic, tmp_path / "sub" / "p.png")
    assert np.asarray(Image.open(path)).shape == pic.shape
    with pytest.raises(DataError, match="image is .* but the map is"):
        overlay(image, np.zeros((10, 10)), 0.0, 1.0)


def _square(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    image = np.full((n, n, 3), 100, np.uint8)
    score_map = np.zeros((n, n))
    score_map[20:40, 20:40] = 1.0
    return image, score_map


def test_decision_picture_outlines_the_flagged_region_on_the_image_and_the_map() -> None:
    image, score_map = _square(256)  # no enlargement at 256 px: panel pixels are image pixels
    truth = np.zeros((256, 256), np.uint8)
    truth[100:140, 100:140] = 1
    pic = decision_picture(image, score_map, threshold=0.5, truth=truth, title="x")
    assert pic.shape == (256, 2 * 256 + 4, 3) and pic.dtype == np.uint8
    left, right = pic[:, :256], pic[:, 260:]
    assert tuple(left[30, 20]) == REGION_COLOUR and tuple(left[30, 30]) == (100, 100, 100)  # boundary only
    assert tuple(left[120, 100]) == GT_COLOUR
    assert tuple(right[30, 20]) == (255, 255, 255)  # the same region outlined on the heat map
    same = decision_picture(image, score_map, region=score_map > 0.5, truth=truth, title="x")
    np.testing.assert_array_equal(same, pic)  # a threshold means score > threshold, as omniad score decides


def test_decision_picture_without_a_map_and_small_images() -> None:
    image, score_map = _square(48)
    assert decision_picture(image, None, title="image-level score").shape == (192, 192, 3)  # enlarged x4
    assert decision_picture(image[..., 0], score_map, threshold=0.5).shape == (192, 2 * 192 + 4, 3)  # grayscale


def test_helpers_take_paths_and_grayscale_and_default_to_the_maps_own_scale(tmp_path: Path) -> None:
    image, score_map = _square()
    path = save_png(image, tmp_path / "img.png")
    np.testing.assert_array_equal(overlay(path, score_map), overlay(image, score_map, 0.0, 1.0))
    np.testing.assert_array_equal(overlay(image[..., 0], score_map), overlay(image, score_map))
    colours = colorize(score_map * 7 + 3)  # own scale: min -> first colour, max -> last
    np.testing.assert_array_equal(colours[0, 0], colorize(np.zeros((1, 1)), 0.0, 1.0)[0, 0])
    np.testing.assert_array_equal(colours[30, 30], colorize(np.ones((1, 1)), 0.0, 1.0)[0, 0])
    with_nan = score_map.copy()
    with_nan[0, 0] = np.nan
    np.testing.assert_array_equal(colorize(with_nan)[0, 0], colours[0, 0])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda i, m: decision_picture(i, m, threshold=0.5, region=m), ConfigError, "threshold or region, not both"),
        (lambda i, m: decision_picture(i, None, threshold=0.5), ConfigError, "a threshold needs a score map"),
        (lambda i, m: decision_picture(i, m[:10]), DataError, r"image is \(64, 64\) but the map is \(10, 64\)"),
        (lambda i, m: overlay(i, m, alpha=2.0), ConfigError, r"alpha=2.0 must be in \[0, 1\]"),
        (lambda i, m: overlay(i.transpose(2, 0, 1), m), DataError, "channels-first"),
        (lambda i, m: colorize(m, cmap="no-such"), ConfigError, "unknown colour map 'no-such'"),
        (lambda i, m: colorize(m[0]), DataError, r"the map must be 2-D \(H, W\), got shape \(64,\)"),
        (lambda i, m: outline(i, m, colour=(0, 0)), ConfigError, "three values 0..255"),
        (lambda i, m: outline(i, m[:, :5]), DataError, r"but the mask is \(64, 5\)"),
        (lambda i, m: save_png(m, "x.png"), DataError, "a picture is a uint8 array"),
    ],
)
def test_bad_input_fails_saying_what_to_pass(call: object, error: type, message: str) -> None:
    image, score_map = _square()
    with pytest.raises(error, match=message):
        call(image, score_map)  # type: ignore[operator]


def test_every_public_helper_is_documented() -> None:
    import omniad_vision.overlays as overlays

    doc = (Path(__file__).resolve().parents[1] / "docs" / "pictures.md").read_text()
    assert set(overlays.__all__) == {"GT_COLOUR", "REGION_COLOUR", "colorize", "decision_picture", "outline",
                                     "overlay", "save_png", "triptych"}
    for name in overlays.__all__:
        assert f"`{name}" in doc, f"{name} is not in docs/pictures.md"
