"""Image input: every accepted form becomes RGB uint8; every bad one a DataError naming it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from omniad import DataError
from omniad_vision.images import ImageFiles, MaskFiles, as_rgb, image_size, read_mask, read_rgb


def test_array_forms() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    assert as_rgb(rgb, "x") is rgb
    gray = rgb[..., 0]
    np.testing.assert_array_equal(as_rgb(gray, "x"), np.repeat(gray[..., None], 3, axis=2))
    rgba = np.concatenate([rgb, np.full((5, 7, 1), 7, np.uint8)], axis=2)
    np.testing.assert_array_equal(as_rgb(rgba, "x"), rgb)
    np.testing.assert_array_equal(as_rgb(rgb / 255.0, "x"), rgb)
    assert as_rgb(rgb.astype(np.int64), "x").dtype == np.uint8


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.full((4, 4, 3), np.nan), "NaN"),
        (np.full((4, 4, 3), 2.0), r"\[0, 1\]"),
        (np.full((4, 4, 3), 300, dtype=np.int32), "uint8"),
        (np.zeros((3, 8, 8), np.uint8), "channels-first"),
        (np.zeros((4, 4, 5), np.uint8), "shape"),
        (np.zeros((1, 4, 3), np.uint8), "2x2"),
        ("not an image", "does not exist"),
        ({"a": 1}, "expected an RGB image"),
    ],
)
def test_bad_arrays_name_the_sample(bad: object, message: str) -> None:
    with pytest.raises(DataError, match=message) as info:
        as_rgb(bad, "detector X.score, image 3")
    assert "image 3" in str(info.value)


def test_files_of_every_mode_become_rgb(tmp_path: Path) -> None:
    base = np.random.default_rng(1).integers(0, 256, (6, 9, 3), dtype=np.uint8)
    Image.fromarray(base[..., 0], "L").save(tmp_path / "gray.png")
    Image.fromarray(np.dstack([base, np.full((6, 9), 200, np.uint8)]), "RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(base).convert("P").save(tmp_path / "palette.png")
    Image.fromarray(base[..., 0].astype(np.uint16) * 257).save(tmp_path / "gray16.png")
    Image.fromarray(base).save(tmp_path / "rgb.bmp")
    for name in ("gray.png", "rgba.png", "palette.png", "gray16.png", "rgb.bmp"):
        img = read_rgb(tmp_path / name)
        assert img.shape == (6, 9, 3) and img.dtype == np.uint8, name
        assert as_rgb(str(tmp_path / name), "x").shape == (6, 9, 3)
    np.testing.assert_array_equal(read_rgb(tmp_path / "rgba.png"), base)
    assert image_size(tmp_path / "rgb.bmp") == (6, 9)


def test_corrupt_and_truncated_files_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "junk.png").write_bytes(b"this is not a png")
    with pytest.raises(DataError, match="junk.png.*not a readable image"):
        read_rgb(tmp_path / "junk.png")
    noise = np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8)
    for ext in ("jpg", "png"):
        Image.fromarray(noise).save(tmp_path / f"full.{ext}")
        data = (tmp_path / f"full.{ext}").read_bytes()
        (tmp_path / f"cut.{ext}").write_bytes(data[: len(data) * 2 // 3])  # header intact, pixels cut
        with pytest.raises(DataError, match=f"cut.{ext}.*truncated or corrupt"):
            read_rgb(tmp_path / f"cut.{ext}")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(DataError, match="empty.png"):
        read_rgb(tmp_path / "empty.png")


def test_masks(tmp_path: Path) -> None:
    m = np.zeros((4, 6), np.uint8)
    m[1:3, 2:4] = 255
    Image.fromarray(m).save(tmp_path / "m.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "m.png"), (m > 0).astype(np.uint8))
    Image.fromarray(np.dstack([m, m, m])).save(tmp_path / "m_rgb.png")
    assert read_mask(tmp_path / "m_rgb.png").shape == (4, 6)
    with pytest.raises(DataError, match="m.png is 6x4.*image is 5x4"):
        read_mask(tmp_path / "m.png", "ds", shape=(4, 5))


def test_lazy_sequences(tmp_path: Path) -> None:
    for i in range(3):
        Image.fromarray(np.full((4, 4, 3), i, np.uint8)).save(tmp_path / f"{i}.png")
    files = ImageFiles(sorted(tmp_path.glob("*.png")))
    assert len(files) == 3 and files[2][0, 0, 0] == 2 and files[-1][0, 0, 0] == 2
    assert isinstance(files[1:], ImageFiles) and len(files[1:]) == 2
    with pytest.raises(IndexError):
        files[3]
    masks = MaskFiles([None, tmp_path / "0.png"], [(2, 3), (4, 4)])
    assert masks[0].shape == (2, 3) and masks[0].sum() == 0
    assert masks[1].sum() == 0  # all-zero image -> empty mask
