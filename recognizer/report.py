"""One reporting call for metrics and images: TensorBoard and a JSONL file (``RUN/metrics.jsonl``).

Scalar names are hierarchical (``Loss/G/adv``, ``Speed/images_per_s``); each JSONL line is
``{"step": S, "time": unix_seconds, "<name>": value, ...}``.
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


class Reporter:
    """Writes scalars and images of a run; a disabled reporter (ranks other than 0) does nothing.

    Args:
        run_dir: the run folder; writes ``metrics.jsonl`` and TensorBoard events under ``tb/``.
        enabled: False on ranks that must not write.
        tensorboard: also write TensorBoard events (needs the ``tensorboard`` package).
    """

    def __init__(self, run_dir: str | Path, enabled: bool = True, tensorboard: bool = True):
        self.enabled = enabled
        self.run_dir = Path(run_dir)
        self._jsonl = None
        self._tb = None
        if not enabled:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._jsonl = open(self.run_dir / "metrics.jsonl", "a", encoding="utf-8")
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(str(self.run_dir / "tb"))

    def scalars(self, step: int, values: dict[str, float]) -> None:
        if not self.enabled or not values:
            return
        row = {"step": step, "time": round(time.time(), 3), **{k: float(v) for k, v in values.items()}}
        self._jsonl.write(json.dumps(row) + "\n")
        self._jsonl.flush()
        if self._tb is not None:
            for k, v in values.items():
                self._tb.add_scalar(k, float(v), step)

    def image(self, step: int, tag: str, image: np.ndarray) -> None:
        """A uint8 grayscale ``[H, W]`` image to TensorBoard."""
        if self.enabled and self._tb is not None:
            self._tb.add_image(tag, image[None], step, dataformats="CHW")

    def close(self) -> None:
        if self._jsonl is not None:
            self._jsonl.close()
            self._jsonl = None
        if self._tb is not None:
            self._tb.close()
            self._tb = None
