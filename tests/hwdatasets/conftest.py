"""Small image and file factories for the hwdatasets tests (everything is written into tmp_path)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw


def ink_page(width: int = 120, height: int = 40, seed: int = 0) -> np.ndarray:
    """Uint8 gray [height, width]: white paper with a few dark strokes away from the border."""
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    rng = np.random.default_rng(seed)
    for _ in range(4):
        x0, x1 = sorted(rng.integers(width // 5, 4 * width // 5, size=2).tolist())
        y0, y1 = sorted(rng.integers(height // 4, 3 * height // 4, size=2).tolist())
        draw.line((x0, y0, x1 + 1, y1 + 1), fill=0, width=2)
    return np.asarray(img).copy()


@pytest.fixture
def write_image():
    """``write_image(path, array_or_pil)`` saves an image (PNG/JPG by suffix), creating folders."""

    def write(path: Path, image) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(image, np.ndarray):
            image = Image.fromarray(image)
        image.save(path)
        return path

    return write


@pytest.fixture
def make_ink():
    """``make_ink(width, height, seed)``: see :func:`ink_page`."""
    return ink_page
