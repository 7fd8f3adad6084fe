"""Tiny shard folders for the recognizer tests: each character a distinct bar-code glyph."""
from __future__ import annotations

import numpy as np

from hwdatasets import Sample, ShardWriter

WORDS = ["ab", "ba", "abc", "cab", "bad", "dab", "cd", "a1", "b-c", "dcba"]


def glyph_image(text: str, seed: int = 0) -> np.ndarray:
    """32 x (8 * len + 8) image: per character a bar pattern picked by its code point, plus noise."""
    rng = np.random.default_rng(seed)
    img = np.full((32, 8 * len(text) + 8), 250, np.uint8)
    for k, c in enumerate(text):
        x, code = 4 + 8 * k, ord(c)
        for bit in range(6):
            if code >> bit & 1:
                img[6 + 3 * bit : 8 + 3 * bit, x : x + 6] = 20
    return np.clip(img.astype(int) + rng.integers(-5, 6, img.shape), 0, 255).astype(np.uint8)


def write_shards(folder, words, copies: int = 2, writer: str = "w") -> None:
    with ShardWriter(folder, shard_size=8) as w:
        for k in range(copies):
            for i, t in enumerate(words):
                w.add(Sample(glyph_image(t, 100 * k + i), t, writer, f"{writer}-{k}-{i}"))
