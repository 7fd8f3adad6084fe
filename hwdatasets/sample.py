"""The one record every reader yields and every shard stores."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Sample:
    """A word or line image with its transcription.

    image:  uint8 array [H, W], ink dark (0) on paper white (255).
    text:   Unicode NFC, surrounding whitespace stripped; may be "" for unlabelled images.
    writer: writer id as a string (for synthetic data: the style id).
    id:     a stable sample id, unique within its source (file name, line id, ...).
    style:  style index of a synthetic sample, -1 for real data.
    """

    image: np.ndarray
    text: str
    writer: str
    id: str
    style: int = -1

    def __post_init__(self) -> None:
        if self.image.dtype != np.uint8 or self.image.ndim != 2:
            raise ValueError(
                f"sample {self.id!r}: image must be uint8 [H, W], got {self.image.dtype} {self.image.shape}"
            )
