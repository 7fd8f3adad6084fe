"""Turning generator output into uint8 images, and the fixed-z x fixed-text sample grid."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from recognizer.codec import Codec
from scrabblegan.config import CHAR_WIDTH


def to_uint8(images: torch.Tensor, widths: Sequence[int] | torch.Tensor) -> list[np.ndarray]:
    """``[N, 1, H, W]`` in [-1, 1] (white +1) -> uint8 ``[H, w_i]`` arrays, ink 0 on white 255, cropped."""
    arr = ((images.detach().float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8).cpu().numpy()
    return [arr[i, 0, :, : int(w)] for i, w in enumerate(widths)]


@torch.no_grad()
def generate(generator: nn.Module, codec: Codec, z: torch.Tensor, texts: Sequence[str]) -> list[np.ndarray]:
    """One uint8 image per (z row, text) pair, each ``32 x 16 len(text)``."""
    labels, lengths = codec.encode_padded(texts)
    device = z.device
    images = generator(z, labels.to(device))  # [N, 1, 32, 16 L]
    return to_uint8(images, (lengths * CHAR_WIDTH).tolist())


@torch.no_grad()
def sample_grid(generator: nn.Module, codec: Codec, z: torch.Tensor, texts: Sequence[str], gap: int = 4) -> np.ndarray:
    """Rows = styles (rows of ``z``), columns = ``texts``; white background, ``gap`` px between cells.

    The generator is run in eval mode and restored to its previous mode afterwards.
    """
    was_training = generator.training
    generator.eval()
    try:
        rows = [generate(generator, codec, zi.expand(len(texts), -1), texts) for zi in z]
    finally:
        generator.train(was_training)
    cell_w = CHAR_WIDTH * max(len(t) for t in texts)
    h = rows[0][0].shape[0]
    grid = np.full((len(rows) * (h + gap) + gap, len(texts) * (cell_w + gap) + gap), 255, np.uint8)
    for r, row in enumerate(rows):
        for c, img in enumerate(row):
            y, x = gap + r * (h + gap), gap + c * (cell_w + gap)
            grid[y : y + h, x : x + img.shape[1]] = img
    return grid
