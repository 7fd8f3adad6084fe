"""Image normalisation: every PIL mode to uint8 gray ink-on-white, trimming, height, inversion."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from hwdatasets.normalize import Normalizer, resize_to_height, to_gray, trim_margins


def _ink_rgba(h: int = 10, w: int = 20) -> Image.Image:
    """Transparent canvas with an opaque black bar in the middle rows (DHSD's style)."""
    arr = np.zeros((h, w, 4), np.uint8)  # fully transparent black
    arr[4:6, 3:17] = (0, 0, 0, 255)
    return Image.fromarray(arr, "RGBA")


def test_rgba_transparent_background_becomes_white_paper():
    gray = to_gray(_ink_rgba())
    assert gray.dtype == np.uint8 and gray.shape == (10, 20)
    assert gray[0, 0] == 255 and gray[9, 19] == 255  # transparent -> white, not black
    assert (gray[4:6, 3:17] == 0).all()


def test_rgba_half_transparent_ink_is_composited():
    arr = np.zeros((2, 2, 4), np.uint8)
    arr[..., 3] = 128  # black at half opacity over white
    assert abs(int(to_gray(Image.fromarray(arr, "RGBA"))[0, 0]) - 127) <= 1


def test_la_transparent_background_becomes_white():
    arr = np.zeros((4, 4, 2), np.uint8)
    arr[1, 1] = (0, 255)
    gray = to_gray(Image.fromarray(arr, "LA"))
    assert gray[0, 0] == 255 and gray[1, 1] == 0


def test_rgb_to_luminance():
    arr = np.full((3, 3, 3), 255, np.uint8)
    arr[1, 1] = (255, 0, 0)
    gray = to_gray(Image.fromarray(arr, "RGB"))
    assert gray[0, 0] == 255
    assert gray[1, 1] == 76  # ITU-R 601-2 luma of pure red


def test_palette_without_transparency():
    img = Image.fromarray(np.array([[0, 1], [1, 0]], np.uint8), "P")
    img.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    assert to_gray(img).tolist() == [[0, 255], [255, 0]]


def test_palette_with_transparent_index_becomes_white():
    img = Image.fromarray(np.array([[0, 1], [1, 0]], np.uint8), "P")
    img.putpalette([0, 0, 0, 10, 10, 10] + [0] * 762)  # index 1 is near-black but transparent
    img.info["transparency"] = 1
    assert to_gray(img).tolist() == [[0, 255], [255, 0]]


def test_palette_transparency_survives_png_round_trip(tmp_path):
    img = Image.fromarray(np.array([[0, 1]], np.uint8), "P")
    img.putpalette([0, 0, 0, 20, 20, 20] + [0] * 762)
    img.save(tmp_path / "p.png", transparency=1)
    with Image.open(tmp_path / "p.png") as loaded:
        assert loaded.mode == "P"
        assert to_gray(loaded).tolist() == [[0, 255]]


def test_one_bit():
    arr = np.array([[True, False], [False, True]])
    gray = to_gray(Image.fromarray(arr).convert("1"))
    assert gray.dtype == np.uint8 and gray.tolist() == [[255, 0], [0, 255]]


def test_sixteen_bit_is_scaled_to_eight_bit(tmp_path):
    arr = np.array([[0, 32768, 65535]], np.uint16)
    img = Image.fromarray(arr)  # mode I;16
    img.save(tmp_path / "i16.png")
    with Image.open(tmp_path / "i16.png") as loaded:
        assert loaded.mode.startswith("I")
        gray = to_gray(loaded)
    assert gray.dtype == np.uint8 and gray.tolist() == [[0, 128, 255]]
    assert to_gray(img).tolist() == [[0, 128, 255]]


def test_trim_keeps_ink_plus_padding():
    gray = np.full((64, 256), 255, np.uint8)
    gray[20:41, 50:151] = 0
    trimmed = trim_margins(gray, pad=2)
    assert trimmed.shape == (21 + 4, 101 + 4)
    assert (trimmed[2:-2, 2:-2] == 0).all() and (trimmed[:2] == 255).all()


def test_trim_leaves_blank_image_alone():
    blank = np.full((8, 9), 250, np.uint8)
    assert trim_margins(blank) is blank


def test_resize_keeps_aspect_ratio():
    assert resize_to_height(np.zeros((100, 300), np.uint8), 32).shape == (32, 96)
    assert resize_to_height(np.zeros((16, 10), np.uint8), 32).shape == (32, 20)  # upscaling
    assert resize_to_height(np.zeros((500, 1), np.uint8), 32).shape == (32, 1)  # width never 0


def test_normalizer_on_dhsd_like_canvas():
    arr = np.zeros((64, 256, 4), np.uint8)
    arr[20:40, 30:130] = (0, 0, 0, 255)  # 20 x 100 ink on a transparent 64 x 256 canvas
    out = Normalizer(height=32)(Image.fromarray(arr, "RGBA"))
    assert out.dtype == np.uint8 and out.flags["C_CONTIGUOUS"]
    assert out.shape[0] == 32
    assert out.shape[1] == round(104 * 32 / 24)  # trimmed to 24 x 104 (pad 2), then scaled
    assert out.min() == 0 and out.max() == 255


def test_normalizer_without_trim_or_height():
    gray = np.full((10, 30), 255, np.uint8)
    gray[5, 5] = 0
    assert Normalizer(height=None, trim=False)(gray).shape == (10, 30)
    assert Normalizer(height=None, trim=True)(gray).shape == (5, 5)  # one ink pixel + 2 each side


def test_auto_invert_light_ink_on_dark_paper():
    arr = np.zeros((20, 40), np.uint8)  # black paper
    arr[8:12, 5:35] = 255  # white ink covering 15% of the image (more than a 90th percentile allows)
    out = Normalizer(height=None, trim=False)(Image.fromarray(arr))
    assert out[0, 0] == 255 and out[10, 10] == 0
    assert Normalizer(height=None, trim=False, invert="never")(arr)[0, 0] == 0
    normal = 255 - arr
    assert Normalizer(height=None, trim=False)(normal)[0, 0] == 255  # dark on light: untouched
    assert Normalizer(height=None, trim=False, invert="always")(normal)[0, 0] == 0


def test_normalizer_rejects_bad_settings_and_images():
    with pytest.raises(ValueError):
        Normalizer(invert="sometimes")
    with pytest.raises(ValueError):
        Normalizer(height=0)
    with pytest.raises(ValueError):
        Normalizer()(np.zeros((0, 5), np.uint8))
