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
from PIL import Image

from scrabblegan.config import CHAR_WIDTH, HEIGHT

MAX_UNLABELED_WIDTH = 640


def to_tensor(image: np.ndarray, width: int, height: int = HEIGHT) -> torch.Tensor:
    """uint8 ``[H, W]`` (ink 0 on white 255) -> float ``[1, height, width]`` in [-1, 1], resized."""
    if image.shape != (height, width):
        image = np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.BILINEAR))
    return torch.from_numpy(image.astype(np.float32) / 127.5 - 1.0).unsqueeze(0)


def natural_width(image: np.ndarray, height: int = HEIGHT) -> int:
    """Width of ``image`` scaled to ``height`` px high (aspect kept), at least 8, at most 640 px."""
    h, w = image.shape
    return int(min(max(round(w * height / h), 8), MAX_UNLABELED_WIDTH))


def pad_batch(images: Sequence[torch.Tensor], fill: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack ``[1, H, W_i]`` tensors into ``[N, 1, H, max W]`` padded with ``fill``; returns (batch, widths)."""
    widths = torch.tensor([x.shape[-1] for x in images], dtype=torch.long)
    out = torch.full((len(images), 1, images[0].shape[-2], int(widths.max())), fill)
    for i, x in enumerate(images):
        out[i, :, :, : x.shape[-1]] = x
    return out, widths


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


class ResumableSampler:
    """Endless batches of indices into ``pool``: shuffled per epoch, sharded per rank, resumable.

    The epoch permutation depends only on ``(seed, epoch)``; rank ``r`` of ``world`` takes every
    ``world``-th element from ``r``. The state (epoch, cursor) goes into checkpoints.

    Args:
        pool: the dataset indices to draw from.
        batch_size: indices per batch (a batch may span an epoch boundary).
        seed: shuffling seed (the same on every rank).
        rank, world: this process's shard.
    """

    def __init__(self, pool: Sequence[int], batch_size: int, seed: int, rank: int = 0, world: int = 1):
        self.pool = torch.as_tensor(list(pool), dtype=torch.long)
        if len(self.pool) < world:
            raise ValueError(f"{len(self.pool)} usable samples cannot be shared by {world} processes")
        self.batch_size, self.seed, self.rank, self.world = batch_size, seed, rank, world
        self.epoch, self.cursor = 0, 0
        self._order = self._epoch_order()

    def _epoch_order(self) -> list[int]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        perm = self.pool[torch.randperm(len(self.pool), generator=g)]
        per_rank = len(self.pool) // self.world
        return perm[self.rank :: self.world][:per_rank].tolist()

    def next(self) -> list[int]:
        out: list[int] = []
        while len(out) < self.batch_size:
            take = self._order[self.cursor : self.cursor + self.batch_size - len(out)]
            out += take
            self.cursor += len(take)
            if self.cursor >= len(self._order):
                self.epoch, self.cursor = self.epoch + 1, 0
                self._order = self._epoch_order()
        return out

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "cursor": self.cursor}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.cursor = int(state["epoch"]), int(state["cursor"])
        self._order = self._epoch_order()


def sample_texts(lexicon: Sequence[str], n: int, generator: torch.Generator | None = None) -> list[str]:
    """``n`` words drawn uniformly with replacement (torch RNG, so checkpoints capture it)."""
    idx = torch.randint(len(lexicon), (n,), generator=generator)
    return [lexicon[i] for i in idx.tolist()]
