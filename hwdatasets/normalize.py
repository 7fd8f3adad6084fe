"""Image normalisation shared by every reader: any PIL mode -> uint8 gray, dark ink on white paper."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image


def to_gray(image: Image.Image) -> np.ndarray:
    """Convert any PIL image to uint8 gray [H, W].

    Transparent pixels (RGBA, LA, palette with transparency) are composited on white, so an ink
    layer on a transparent canvas becomes ink on paper. 16/32-bit gray is scaled to 0..255.
    """
    mode = image.mode
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("L"), dtype=np.uint8).copy()
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(image).astype(np.float64)
        top = 65535.0 if mode.startswith("I;16") or arr.max() > 255 else 255.0
        return np.clip(np.rint(arr * (255.0 / top)), 0, 255).astype(np.uint8)
    if mode == "F":
        arr = np.asarray(image, dtype=np.float64)
        top = 1.0 if arr.max() <= 1.0 else 255.0
        return np.clip(np.rint(arr * (255.0 / top)), 0, 255).astype(np.uint8)
    return np.asarray(image.convert("L"), dtype=np.uint8).copy()


def ink_mask(gray: np.ndarray) -> np.ndarray | None:
    """Boolean mask of ink pixels, or None when the image holds no visible ink.

    Paper is the 90th percentile of brightness; a pixel is ink when it is darker than paper by at
    least a third of the paper-to-darkest contrast (and at least 24 levels).
    """
    paper = float(np.percentile(gray, 90))
    darkest = float(gray.min())
    contrast = paper - darkest
    if contrast < 24:
        return None
    return gray < paper - max(24.0, contrast / 3)


def trim_margins(gray: np.ndarray, pad: int = 2) -> np.ndarray:
    """Crop empty paper around the ink, keeping ``pad`` pixels; blank images come back unchanged."""
    mask = ink_mask(gray)
    if mask is None:
        return gray
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    top, bottom = max(rows[0] - pad, 0), min(rows[-1] + pad + 1, gray.shape[0])
    left, right = max(cols[0] - pad, 0), min(cols[-1] + pad + 1, gray.shape[1])
    return gray[top:bottom, left:right]


def resize_to_height(gray: np.ndarray, height: int) -> np.ndarray:
    """Scale to ``height`` pixels keeping the aspect ratio (width at least 1)."""
    h, w = gray.shape
    if h == height:
        return gray
    width = max(1, round(w * height / h))
    resample = Image.Resampling.BOX if h > height else Image.Resampling.BICUBIC
    return np.asarray(Image.fromarray(gray).resize((width, height), resample), dtype=np.uint8).copy()


@dataclass
class Normalizer:
    """The image convention of a dataset.

    height: output height in pixels (aspect ratio kept); None keeps the original size.
    trim:   crop empty paper margins before resizing (needed for fixed canvases such as DHSD's).
    invert: "auto" inverts light-on-dark images (median, i.e. paper, darker than 96), "never", "always".
    """

    height: int | None = 32
    trim: bool = True
    invert: str = "auto"

    def __post_init__(self) -> None:
        if self.invert not in ("auto", "never", "always"):
            raise ValueError(f"invert must be auto, never or always, not {self.invert!r}")
        if self.height is not None and self.height < 1:
            raise ValueError("height must be positive")

    def __call__(self, image: Image.Image | np.ndarray) -> np.ndarray:
        gray = to_gray(image) if isinstance(image, Image.Image) else np.asarray(image, dtype=np.uint8)
        if gray.ndim != 2 or gray.size == 0:
            raise ValueError(f"empty or non-2-D image {gray.shape}")
        if self.invert == "always" or (self.invert == "auto" and np.median(gray) < 96):
            gray = 255 - gray
        if self.trim:
            gray = trim_margins(gray)
        if self.height is not None:
            gray = resize_to_height(gray, self.height)
        return np.ascontiguousarray(gray)
