"""Training data for the GAN: load-time resizing, padded batches, a resumable sampler, lexicon texts.

Image tensors are float in [-1, 1], paper white = +1, ink = -1 (``uint8 / 127.5 - 1``), 32 px
high. Labelled images are resized to 16 px per character of their text; unlabelled ones keep
their aspect ratio. A batch is padded on the right with white to its widest image and carries
each image's true width.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from recognizer.data import ResumableSampler, pad_batch, to_tensor  # noqa: F401 (ResumableSampler: re-export)
from scrabblegan.config import CHAR_WIDTH, HEIGHT

MAX_UNLABELED_WIDTH = 640


def natural_width(image: np.ndarray, height: int = HEIGHT) -> int:
    """Width of ``image`` scaled to ``height`` px high (aspect kept), at least 8, at most 640 px."""
    h, w = image.shape
    return int(min(max(round(w * height / h), 8), MAX_UNLABELED_WIDTH))


def mask_width(images: torch.Tensor, widths: torch.Tensor, fill: float = 1.0) -> torch.Tensor:
    """Paint the columns at and beyond each image's width with ``fill`` (white); differentiable."""
    cols = torch.arange(images.shape[-1], device=images.device)
    keep = (cols[None, :] < widths.to(images.device)[:, None])[:, None, None, :]  # [N, 1, 1, W]
    return torch.where(keep, images, torch.full_like(images, fill))


@dataclass
class Batch:
    """Real images ``[N, 1, 32, W]`` with true ``widths [N]`` and ``texts`` ("" when unlabelled)."""

    images: torch.Tensor
    widths: torch.Tensor
    texts: list[str]

    def to(self, device: torch.device, channels_last: bool = False) -> "Batch":
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        return Batch(self.images.to(device, memory_format=fmt), self.widths.to(device), self.texts)


def load_batch(dataset, indices: Sequence[int], labelled: bool = True) -> Batch:
    """Load and resize ``dataset[i]`` for ``i in indices`` (16 px per character when ``labelled``)."""
    images, texts = [], []
    for i in indices:
        s = dataset[int(i)]
        width = CHAR_WIDTH * len(s.text) if labelled else natural_width(s.image)
        images.append(to_tensor(s.image, width))
        texts.append(s.text if labelled else "")
    batch, widths = pad_batch(images)
    return Batch(batch, widths, texts)


def sample_texts(lexicon: Sequence[str], n: int, generator: torch.Generator | None = None) -> list[str]:
    """``n`` words drawn uniformly with replacement (torch RNG, so checkpoints capture it)."""
    idx = torch.randint(len(lexicon), (n,), generator=generator)
    return [lexicon[i] for i in idx.tolist()]
