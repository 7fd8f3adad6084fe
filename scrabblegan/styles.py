"""Style banks: N style vectors z drawn once from a seed, saved beside the output, reusable later.

A style bank is what makes a synthetic "writer" reusable: ``generate`` saves the bank it drew as
``styles.pt`` in its output folder, and ``--style-bank styles.pt`` in another run (another
lexicon, another output) writes with exactly the same styles. The file holds plain tensors and
numbers only, so it is read with ``torch.load(weights_only=True)``::

    format      "scrabblegan-style-bank"
    z           float32 [N, z_dim]   style i is row i (its writer id is ``style-i``)
    seed        int or None          seed it was drawn from (None: made by hand)
    truncation  float or None        |z| <= truncation for every entry when set
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import torch

from hwdatasets.atomic import atomic_file

BANK_FORMAT = "scrabblegan-style-bank"


class StyleBankError(ValueError):
    """A style bank file that cannot be used with this checkpoint or these arguments."""


@dataclass
class StyleBank:
    """Style vectors ``z [N, z_dim]`` with where they came from."""

    z: torch.Tensor
    seed: int | None = None
    truncation: float | None = None

    def __len__(self) -> int:
        return self.z.shape[0]

    def sha256(self) -> str:
        """Digest of the vectors' bytes (little-endian float32): the bank's identity in provenance."""
        return hashlib.sha256(self.z.detach().cpu().contiguous().float().numpy().tobytes()).hexdigest()

    def save(self, path: str | Path) -> None:
        """Write atomically (temporary file, fsync, rename)."""
        path = Path(path)
        state = {"format": BANK_FORMAT, "z": self.z.detach().cpu().float().contiguous(),
                 "seed": self.seed, "truncation": self.truncation}
        with atomic_file(path, "wb") as f:
            torch.save(state, f)

    @classmethod
    def load(cls, path: str | Path, z_dim: int | None = None) -> "StyleBank":
        """Read a bank written by :meth:`save`; ``z_dim`` checks it fits the generator."""
        path = Path(path)
        if not path.is_file():
            raise StyleBankError(f"{path}: style bank not found (it is the styles.pt a previous `generate` wrote).")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # noqa: BLE001 - any unpickling failure means "not a style bank"
            raise StyleBankError(f"{path}: not a readable style bank ({type(e).__name__}: {e}).") from None
        if not isinstance(state, dict) or state.get("format") != BANK_FORMAT:
            raise StyleBankError(f"{path}: not a style bank (expected format {BANK_FORMAT!r}).")
        z = state["z"]
        if z.ndim != 2 or (z_dim is not None and z.shape[1] != z_dim):
            raise StyleBankError(f"{path}: style vectors have shape {tuple(z.shape)}, this checkpoint needs [N, {z_dim}].")
        return cls(z.float(), state.get("seed"), state.get("truncation"))


def truncated_normal(n: int, dim: int, seed: int, truncation: float | None = None) -> torch.Tensor:
    """``[n, dim]`` standard normal values from ``seed``; with ``truncation`` T every entry with
    |z| > T is redrawn (from the same seeded stream) until all lie in [-T, T] (BigGAN's trick).

    Deterministic for a given (n, dim, seed, truncation), on any machine (CPU generator).
    """
    if truncation is not None and truncation <= 0:
        raise StyleBankError(f"--truncation must be positive, got {truncation}")
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, dim, generator=g)
    if truncation is not None:
        while True:
            bad = z.abs() > truncation
            count = int(bad.sum())
            if not count:
                break
            z[bad] = torch.randn(count, generator=g)
    return z


def draw_bank(n: int, z_dim: int, seed: int, truncation: float | None = None) -> StyleBank:
    """A new bank of ``n`` styles: style i is row i of :func:`truncated_normal`."""
    if n < 1:
        raise StyleBankError(f"--styles must be at least 1, got {n}")
    return StyleBank(truncated_normal(n, z_dim, seed, truncation), seed, truncation)
