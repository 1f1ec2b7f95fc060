"""Heat-map pictures: shared colour scale, ground-truth outline, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from omniad import DataError
from omniad_vision.overlays import colorize, outline, overlay, save_png, triptych


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
