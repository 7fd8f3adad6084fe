"""Tiny in-memory data and configs for the ScrabbleGAN tests."""
from __future__ import annotations

import numpy as np
import pytest

from hwdatasets.alphabet import Alphabet
from hwdatasets.sample import Sample
from scrabblegan.config import ModelConfig, RunConfig, TrainConfig

WORDS = ["ab", "cab", "bad", "dab", "a", "abba", "cd", "dca"]


class FakeWords:
    """A dataset of ``Sample`` with random-blob images of the words above (natural width 12 px/char)."""

    def __init__(self, n: int = 16, seed: int = 0, labelled: bool = True):
        rng = np.random.default_rng(seed)
        self.samples = []
        for i in range(n):
            text = WORDS[i % len(WORDS)]
            img = np.full((40, 12 * len(text)), 255, np.uint8)
            img[rng.random(img.shape) < 0.3] = 0
            self.samples.append(Sample(img, text if labelled else "", f"w{i % 3}", f"s{i}"))
        self.alphabet = Alphabet.from_texts(s.text for s in self.samples)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> Sample:
        return self.samples[i]

    def texts(self) -> list[str]:
        return [s.text for s in self.samples]


@pytest.fixture
def fake_words() -> FakeWords:
    return FakeWords()


def tiny_config(out, steps: int = 4, **train) -> RunConfig:
    defaults = dict(out=str(out), steps=steps, batch_size=3, d_per_g=1, save_every=2, sample_every=2,
                    log_every=1, sample_styles=2, device="cpu", progress=False)
    return RunConfig(model=ModelConfig.from_preset("tiny"), train=TrainConfig(**{**defaults, **train}))
