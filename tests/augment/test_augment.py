"""augment: every op changes the image, keeps height/dtype/ink polarity, is reproducible; presets; config."""
from __future__ import annotations

import json

import numpy as np
import pytest

import augment
from augment import OPS, PRESETS, AugmentConfigError, build, make_op


def word_image(width: int = 90, seed: int = 0) -> np.ndarray:
    """A fake word: dark strokes on off-white paper, 32 px high, ink away from the borders."""
    rng = np.random.default_rng(seed)
    img = np.full((32, width), 250, np.uint8)
    for x in range(6, width - 6, 7):
        img[8:24, x : x + 2] = 20  # vertical strokes
        img[8 + int(rng.integers(0, 14)), x : x + 6] = 30  # joins
    return img


@pytest.mark.parametrize("name", sorted(OPS))
def test_each_op_changes_image_and_keeps_rules(name):
    image = word_image()
    out = make_op({"op": name, "p": 1.0})(image.copy(), np.random.default_rng(3))
    assert out.dtype == np.uint8 and out.ndim == 2 and out.shape[0] == 32 and out.shape[1] >= 8
    assert out.shape != image.shape or not np.array_equal(out, image)
    # ink polarity: paper (bright percentile) stays much brighter than ink (dark percentile)
    assert np.percentile(out, 90) > np.percentile(out, 5) + 60


@pytest.mark.parametrize("preset", ["light", "heavy"])
def test_presets_reproducible_for_a_seed(preset):
    aug = build(preset)
    images = [word_image(60 + 10 * k, k) for k in range(6)]
    first = [aug(im, 7) for im in images]
    again = [aug(im, np.random.default_rng(7)) for im in images]
    other = [aug(im, 8) for im in images]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert any(a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(first, other))
    assert all(o.dtype == np.uint8 and o.shape[0] == 32 for o in first)
    assert np.array_equal(aug.for_sample(images[0], 1, 2, 3), aug.for_sample(images[0], 1, 2, 3))


def test_none_is_identity():
    image = word_image()
    assert build("none")(image, 0) is image and build(None)(image, 1) is image and not build("none")


def test_config_forms_round_trip(tmp_path):
    spec = {"ops": [{"op": "slant", "p": 1.0, "degrees": 5.0}, {"op": "ink", "p": 1.0, "darkness": [0.7, 0.9]}]}
    aug = build(spec)
    path = tmp_path / "aug.json"
    path.write_text(json.dumps(aug.to_config()))
    image = word_image()
    for other in (build(path), build(spec["ops"]), build(aug.to_config())):
        assert np.array_equal(other(image, 5), aug(image, 5))
    assert [o["op"] for o in build("heavy").to_config()["ops"]] == [o["op"] for o in PRESETS["heavy"]]


@pytest.mark.parametrize("spec, match", [
    ("medium", "unknown augmentation"),
    ({"ops": [{"op": "warp"}]}, "unknown augmentation op 'warp'"),
    ({"ops": [{"op": "blur", "radius": 2}]}, "no parameter"),
    ({"ops": [{"op": "blur", "p": 2}]}, "not in"),
    ({"steps": []}, "keys 'ops'"),
    ([{"p": 1}], "'op' key"),
])
def test_bad_configs_are_clear_errors(spec, match):
    with pytest.raises(AugmentConfigError, match=match):
        build(spec)


@pytest.mark.parametrize("image", [np.zeros((0, 5), np.uint8), np.zeros((32, 0), np.uint8),
                                   np.zeros((32, 10), np.float32), np.zeros((2, 32, 10), np.uint8)])
def test_bad_images_are_clear_errors(image):
    with pytest.raises(ValueError, match="empty image|uint8 gray image"):
        augment.build("light")(image, 0)


def test_narrow_and_tall_images_survive_heavy():
    aug = build("heavy")
    for image in (word_image(8), np.full((32, 3), 255, np.uint8)):
        for seed in range(10):
            out = aug(image, seed)
            assert out.shape[0] == 32 and out.shape[1] >= 1 and out.dtype == np.uint8
