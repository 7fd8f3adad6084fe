"""Augmentation operations for handwritten word images.

Every op takes a uint8 gray image ``[H, W]`` (ink dark, paper white 255) and a
``numpy.random.Generator``, and returns a uint8 image of the **same height** (the width may change:
horizontal scale, slant, crop/pad). Ink stays darker than paper, and the ranges are small enough
to keep the text readable. All randomness comes from the generator passed in, never from a global
RNG, so a pipeline is reproducible for a seed (see :class:`augment.pipeline.Augmenter`).

Geometry and filtering use ``torchvision.transforms.v2.functional`` (affine, elastic, resize,
gaussian_blur) and ``scipy.ndimage`` (grey erosion/dilation) with parameters drawn here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as nnf
import torchvision.transforms.v2.functional as TF
from scipy import ndimage
from torchvision.transforms import InterpolationMode

WHITE = 255
MIN_WIDTH = 8  # ops never make an image narrower than this


def _tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image))[None]  # [1, H, W] uint8


def _array(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t[0].numpy())


def _warp_ink(image: np.ndarray, warp) -> np.ndarray:
    """Apply a torchvision warp to the *ink* (255 - image) with zeros outside, then invert back.

    Warping ink-on-black with zero padding is exact at the borders; warping the image itself with
    ``fill=255`` is not (torchvision 0.2x blends the zero-padded border with the fill twice and
    draws a gray frame around the image).
    """
    ink = torch.from_numpy(255.0 - image.astype(np.float32))[None]  # [1, H, W]
    return _to_uint8(255.0 - warp(ink)[0].numpy())


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _trim_columns(image: np.ndarray, keep: tuple[int, int], margin: int = 2) -> np.ndarray:
    """Drop white columns outside ``[keep[0], keep[1])`` unless they hold ink (after a warp that padded)."""
    ink = np.flatnonzero(image.min(axis=0) < WHITE - 8)
    left, right = keep
    if len(ink):
        left, right = min(left, max(ink[0] - margin, 0)), max(right, min(ink[-1] + margin + 1, image.shape[1]))
    return image[:, left:right]


class Op:
    """Base class: applied with probability ``p`` (the draw is taken from the generator every time)."""

    p: float = 1.0

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if rng.random() >= self.p:
            return image
        return self.apply(image, rng)

    def apply(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError


def _affine(image: np.ndarray, angle: float, shear: float) -> np.ndarray:
    """Rotate by ``angle`` and shear by ``shear`` degrees around the centre, padding first so no ink is cut."""
    h, w = image.shape
    pad = int(math.ceil(h * (abs(math.tan(math.radians(shear))) + abs(math.sin(math.radians(angle)))) / 2)) + 1
    padded = np.pad(image, ((0, 0), (pad, pad)), constant_values=WHITE)
    out = _warp_ink(padded, lambda ink: TF.affine(ink, angle=angle, translate=[0.0, 0.0], scale=1.0, shear=[shear, 0.0],
                                                  interpolation=InterpolationMode.BILINEAR))
    return _trim_columns(out, (pad, pad + w))


@dataclass
class Slant(Op):
    """Horizontal shear (writing slant).

    Args:
        p: probability of applying.
        degrees: the shear angle is uniform in ``[-degrees, degrees]``.
    """

    p: float = 0.5
    degrees: float = 12.0

    def apply(self, image, rng):
        return _affine(image, 0.0, float(rng.uniform(-self.degrees, self.degrees)))


@dataclass
class Rotate(Op):
    """Small rotation (baseline skew); the height is kept, ink rotated past the edges is clipped.

    Args:
        p: probability of applying.
        degrees: the angle is uniform in ``[-degrees, degrees]``.
    """

    p: float = 0.3
    degrees: float = 2.0

    def apply(self, image, rng):
        return _affine(image, float(rng.uniform(-self.degrees, self.degrees)), 0.0)


@dataclass
class GridDistortion(Op):
    """Grid warp of Wigington et al. (2017): control points every ``spacing`` px get normally
    distributed offsets of ``sigma`` px, interpolated smoothly over the image (torchvision ``elastic``).

    Args:
        p: probability of applying.
        spacing: control point spacing in pixels.
        sigma: standard deviation of the control point offsets in pixels.
    """

    p: float = 0.5
    spacing: int = 16
    sigma: float = 1.5

    def apply(self, image, rng):
        h, w = image.shape
        grid = rng.normal(0.0, self.sigma, size=(1, 2, h // self.spacing + 2, w // self.spacing + 2))
        field = nnf.interpolate(torch.from_numpy(grid.astype(np.float32)), size=(h, w), mode="bicubic",
                                align_corners=True)[0]  # [2, H, W] offsets in pixels (x, y)
        displacement = torch.stack([field[0] * 2.0 / w, field[1] * 2.0 / h], dim=-1)[None]  # [1, H, W, 2]
        return _warp_ink(image, lambda ink: TF.elastic(ink, displacement, interpolation=InterpolationMode.BILINEAR))


@dataclass
class HScale(Op):
    """Horizontal scale (narrower or wider writing); changes the width.

    Args:
        p: probability of applying.
        low, high: the factor is log-uniform in ``[low, high]``.
    """

    p: float = 0.5
    low: float = 0.85
    high: float = 1.15

    def apply(self, image, rng):
        h, w = image.shape
        factor = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        width = max(MIN_WIDTH, round(w * factor))
        return _array(TF.resize(_tensor(image), [h, width], antialias=True))


@dataclass
class VScale(Op):
    """Vertical scale of the writing inside the fixed height (smaller/taller letters), centred.

    Args:
        p: probability of applying.
        low, high: the factor is uniform in ``[low, high]``; above 1 the top and bottom rows are cut.
    """

    p: float = 0.3
    low: float = 0.85
    high: float = 1.05

    def apply(self, image, rng):
        h, w = image.shape
        rows = max(4, round(h * rng.uniform(self.low, self.high)))
        scaled = _array(TF.resize(_tensor(image), [rows, w], antialias=True))
        if rows >= h:
            top = (rows - h) // 2
            return np.ascontiguousarray(scaled[top : top + h])
        top = (h - rows) // 2
        return np.pad(scaled, ((top, h - rows - top), (0, 0)), constant_values=WHITE)


@dataclass
class StrokeWidth(Op):
    """Thicker (grey erosion: dark ink spreads) or thinner (grey dilation) strokes, by about one pixel.

    Args:
        p: probability of applying.
        thicker: probability that an applied change thickens rather than thins.
        sizes: structuring element sizes (rows, columns) to pick from.
    """

    p: float = 0.3
    thicker: float = 0.5
    sizes: tuple = ((2, 2), (1, 2), (2, 1))

    def apply(self, image, rng):
        size = tuple(self.sizes[rng.integers(len(self.sizes))])
        if rng.random() < self.thicker:
            return ndimage.grey_erosion(image, size=size)
        return ndimage.grey_dilation(image, size=size)


@dataclass
class Blur(Op):
    """Gaussian blur (out-of-focus scan).

    Args:
        p: probability of applying.
        low, high: sigma in pixels, uniform in ``[low, high]``.
    """

    p: float = 0.3
    low: float = 0.3
    high: float = 0.9

    def apply(self, image, rng):
        sigma = float(rng.uniform(self.low, self.high))
        r = math.ceil(3 * sigma)
        padded = np.pad(image, r, mode="edge")  # torchvision's reflect padding needs images wider than the kernel
        out = TF.gaussian_blur(_tensor(padded).float(), [2 * r + 1, 2 * r + 1], [sigma, sigma])
        return _to_uint8(_array(out)[r:-r, r:-r])


@dataclass
class Noise(Op):
    """Additive Gaussian pixel noise (sensor grain).

    Args:
        p: probability of applying.
        low, high: noise standard deviation in gray levels, uniform in ``[low, high]``.
    """

    p: float = 0.3
    low: float = 2.0
    high: float = 8.0

    def apply(self, image, rng):
        std = rng.uniform(self.low, self.high)
        return _to_uint8(image.astype(np.float32) + rng.normal(0.0, std, size=image.shape))


@dataclass
class Ink(Op):
    """Ink intensity and contrast: darkness scaled by ``k`` (1: unchanged, < 1: lighter/faded ink),
    then a gamma curve on the gray levels (> 1: sharper strokes, < 1: softer edges); 0 and 255 stay.

    Args:
        p: probability of applying.
        darkness: ``(low, high)`` of ``k``.
        gamma: ``(low, high)`` of the gamma, log-uniform.
    """

    p: float = 0.3
    darkness: tuple = (0.6, 1.0)
    gamma: tuple = (0.7, 1.4)

    def apply(self, image, rng):
        k = rng.uniform(*self.darkness)
        g = math.exp(rng.uniform(math.log(self.gamma[0]), math.log(self.gamma[1])))
        x = 1.0 - (1.0 - image.astype(np.float32) / 255.0) * k
        return _to_uint8(255.0 * x**g)


@dataclass
class Paper(Op):
    """Paper background: a smooth random tone (stains, uneven lighting) and fine grain, multiplied in
    so that ink stays as dark as it was and paper gets no darker than ``tone[0]`` minus the variation.

    Args:
        p: probability of applying.
        tone: ``(low, high)`` mean paper brightness.
        variation: amplitude of the smooth variation in gray levels.
        grain: standard deviation of the fine grain in gray levels.
        scale: size of the smooth blotches in pixels.
    """

    p: float = 0.3
    tone: tuple = (215.0, 250.0)
    variation: float = 10.0
    grain: float = 3.0
    scale: int = 12

    def apply(self, image, rng):
        h, w = image.shape
        coarse = rng.uniform(-1.0, 1.0, size=(1, 1, h // self.scale + 2, w // self.scale + 2)).astype(np.float32)
        smooth = nnf.interpolate(torch.from_numpy(coarse), size=(h, w), mode="bilinear", align_corners=True)[0, 0].numpy()
        paper = rng.uniform(*self.tone) + self.variation * smooth + rng.normal(0.0, self.grain, size=(h, w))
        return _to_uint8(image.astype(np.float32) * np.clip(paper, 0, 255) / 255.0)


@dataclass
class CropPad(Op):
    """Small random crop or white padding at the left and right, and a small vertical shift.

    Args:
        p: probability of applying.
        pad: at most this many white columns added on each side.
        crop: at most this many columns removed on each side (never below 8 px wide).
        shift: at most this many rows of vertical shift (the height is kept, white fills in).
    """

    p: float = 0.5
    pad: int = 6
    crop: int = 2
    shift: int = 1

    def apply(self, image, rng):
        for side in (0, 1):
            n = int(rng.integers(-self.crop, self.pad + 1))
            if n > 0:
                image = np.pad(image, ((0, 0), (n, 0) if side == 0 else (0, n)), constant_values=WHITE)
            elif n < 0 and image.shape[1] + n >= MIN_WIDTH:
                image = image[:, -n:] if side == 0 else image[:, :n]
        dy = int(rng.integers(-self.shift, self.shift + 1))
        if dy:
            shifted = np.full_like(image, WHITE)
            if dy > 0:
                shifted[dy:] = image[:-dy]
            else:
                shifted[:dy] = image[-dy:]
            image = shifted
        return np.ascontiguousarray(image)


OPS: dict[str, type[Op]] = {
    "grid": GridDistortion, "slant": Slant, "rotate": Rotate, "hscale": HScale, "vscale": VScale,
    "stroke": StrokeWidth, "blur": Blur, "noise": Noise, "ink": Ink, "paper": Paper, "croppad": CropPad,
}
