"""Recognizer data: image tensors, padded batches, and several shard folders mixed by weight.

Image tensors are float in [-1, 1], paper white = +1, ink = -1 (``uint8 / 127.5 - 1``), 32 px
high at their natural width; a batch is padded on the right with white to its widest image and
carries each image's true width (the model masks frames past it).

``--train DIR[:WEIGHT]``: each batch draws its samples from the sources with probabilities
proportional to their weights (e.g. real 1.0, synthetic 0.5 gives two real images for each
synthetic one on average). Which source each slot of batch ``b`` takes depends only on
``(seed, b)``, and each source walks through its own shuffled epochs, so the mix is reproducible
and resumes exactly from a checkpoint.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from augment import Augmenter
from hwdatasets.alphabet import Alphabet
from recognizer.trunk import HEIGHT, WIDTH_FACTOR

log = logging.getLogger(__name__)

MIN_WIDTH = 8  # narrower images are padded with white to this width (2 frames)


class RecognizerError(ValueError):
    """A recognizer input, setting or checkpoint that cannot be used; the message says why."""


def to_tensor(image: np.ndarray, width: int | None = None, height: int = HEIGHT) -> torch.Tensor:
    """uint8 ``[H, W]`` (ink 0 on white 255) -> float ``[1, height, width]`` in [-1, 1], resized.

    ``width`` None keeps the aspect ratio (the natural width at ``height``).
    """
    if width is None:
        width = max(1, round(image.shape[1] * height / image.shape[0]))
    if image.shape != (height, width):
        image = np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.BILINEAR))
    return torch.from_numpy(image.astype(np.float32) / 127.5 - 1.0).unsqueeze(0)


def pad_batch(images: Sequence[torch.Tensor], fill: float = 1.0, min_width: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack ``[1, H, W_i]`` tensors into ``[N, 1, H, max W]`` padded with ``fill``; returns (batch, widths).

    Images narrower than ``min_width`` are padded to it and count as ``min_width`` wide.
    """
    widths = torch.tensor([max(x.shape[-1], min_width) for x in images], dtype=torch.long)
    out = torch.full((len(images), 1, images[0].shape[-2], int(widths.max())), fill)
    for i, x in enumerate(images):
        out[i, :, :, : x.shape[-1]] = x
    return out, widths


@dataclass
class Batch:
    """``images [N, 1, 32, W]``, true ``widths [N]``, ``texts`` and sample ``ids``."""

    images: torch.Tensor
    widths: torch.Tensor
    texts: list[str]
    ids: list[str]

    def to(self, device: torch.device) -> "Batch":
        return Batch(self.images.to(device), self.widths.to(device), self.texts, self.ids)


def collate(samples: Sequence, augmenter: Augmenter | None = None, seeds: Sequence[Sequence[int]] = ()) -> Batch:
    """A padded :class:`Batch` of ``hwdatasets.Sample``; ``augmenter`` (with per-sample ``seeds``)
    is applied to the uint8 images first."""
    images = []
    for k, s in enumerate(samples):
        image = s.image
        if augmenter:
            image = augmenter.for_sample(image, *seeds[k])
        images.append(to_tensor(image))
    batch, widths = pad_batch(images, min_width=MIN_WIDTH)
    return Batch(batch, widths, [s.text for s in samples], [s.id for s in samples])


def frames_needed(text: str) -> int:
    """CTC frames a text needs: one per character plus one blank between each repeated pair."""
    return len(text) + sum(a == b for a, b in zip(text, text[1:]))


def usable(dataset, alphabet: Alphabet, name: str = "") -> list[int]:
    """Indices of samples to train on: a non-empty text inside ``alphabet`` that fits the image's
    frames (width at height 32 // 4). The others are counted in a logged warning."""
    texts, widths = dataset.texts(), dataset.widths()
    scale = HEIGHT / getattr(dataset, "height", HEIGHT)
    keep, empty, unknown, narrow = [], 0, 0, 0
    for i, (t, w) in enumerate(zip(texts, widths)):
        if not t:
            empty += 1
        elif alphabet.missing(t):
            unknown += 1
        elif int(round(w * scale)) // WIDTH_FACTOR < frames_needed(t):
            narrow += 1
        else:
            keep.append(i)
    if len(keep) < len(texts):
        log.warning("%s: training on %d of %d samples (%d empty texts, %d with characters outside the alphabet, "
                    "%d too narrow for their text)", name or "data", len(keep), len(texts), empty, unknown, narrow)
    return keep


def parse_source(spec: str) -> tuple[str, float]:
    """``"DIR"`` or ``"DIR:WEIGHT"`` -> ``(DIR, weight)`` (weight 1.0 by default, must be > 0)."""
    path, sep, tail = spec.rpartition(":")
    if sep and path:
        try:
            weight = float(tail)
        except ValueError:
            return spec, 1.0  # a colon inside the path itself
        if not weight > 0:
            raise RecognizerError(f"--train {spec!r}: the weight must be a positive number")
        return path, weight
    return spec, 1.0


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

    def next(self, n: int | None = None) -> list[int]:
        """The next ``n`` indices (default ``batch_size``)."""
        n = self.batch_size if n is None else n
        out: list[int] = []
        while len(out) < n:
            take = self._order[self.cursor : self.cursor + n - len(out)]
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


class MixedBatches:
    """Training batches drawn from several datasets by weight, optionally augmented; resumable.

    Args:
        sources: ``(dataset, weight)`` pairs; a dataset yields ``hwdatasets.Sample`` and has
            ``texts()`` and ``widths()`` (a :class:`hwdatasets.Shards`).
        alphabet: the codec's alphabet (samples with other characters are skipped, see :func:`usable`).
        batch_size: samples per batch and process.
        seed: seed of the mixing, the shuffling and the augmentation.
        augmenter: applied to every training image (``None``: no augmentation).
        rank, world: this process's share under DDP.
        names: a name per source for log messages.
    """

    def __init__(self, sources: Sequence[tuple[object, float]], alphabet: Alphabet, batch_size: int, seed: int = 0,
                 augmenter: Augmenter | None = None, rank: int = 0, world: int = 1, names: Sequence[str] = ()):
        names = list(names) or [f"source {i}" for i in range(len(sources))]
        self.datasets = [ds for ds, _ in sources]
        self.weights = torch.tensor([float(w) for _, w in sources], dtype=torch.double)
        self.samplers = []
        for k, (ds, _) in enumerate(sources):
            pool = usable(ds, alphabet, names[k])
            if not pool:
                raise RecognizerError(f"{names[k]}: no usable training sample (see the warning above)")
            self.samplers.append(ResumableSampler(pool, batch_size, seed + 7919 * k, rank, world))
        self.batch_size, self.seed, self.rank, self.augmenter = batch_size, seed, rank, augmenter
        self.batches = 0  # batches drawn so far

    def counts(self, batch: int) -> list[int]:
        """How many samples batch number ``batch`` takes from each source."""
        g = torch.Generator().manual_seed((self.seed * 1_000_003 + batch) * 131 + self.rank)
        picks = torch.multinomial(self.weights, self.batch_size, replacement=True, generator=g)
        return torch.bincount(picks, minlength=len(self.weights)).tolist()

    def next(self) -> Batch:
        b = self.batches
        samples = [self.datasets[k][i] for k, n in enumerate(self.counts(b)) if n
                   for i in self.samplers[k].next(n)]
        self.batches += 1
        seeds = [(self.seed, self.rank, b, j) for j in range(len(samples))]
        return collate(samples, self.augmenter, seeds)

    def state_dict(self) -> dict:
        return {"batches": self.batches, "samplers": [s.state_dict() for s in self.samplers]}

    def load_state_dict(self, state: dict) -> None:
        self.batches = int(state["batches"])
        for s, st in zip(self.samplers, state["samplers"]):
            s.load_state_dict(st)


def open_sources(specs: Sequence[str]) -> tuple[list, list[float], list[str]]:
    """Open ``DIR[:WEIGHT]`` specs as shard datasets: ``(datasets, weights, dirs)``."""
    from hwdatasets import Shards

    parsed = [parse_source(s) for s in specs]
    return [Shards(Path(d)) for d, _ in parsed], [w for _, w in parsed], [d for d, _ in parsed]
