"""Alphabet <-> CTC label codec.

Label layout (fixed, saved implicitly with every alphabet string):

* ``0`` is the CTC **blank** (:attr:`Codec.blank`). The ScrabbleGAN generator reuses index 0 as
  its *padding* symbol for shorter texts in a batch, so one codec serves both networks.
* ``1 .. N`` are the alphabet's characters in the alphabet's own (code point) order, i.e.
  ``label = alphabet.index(char) + 1``.

So a recognizer for an alphabet of N characters has ``N + 1`` output classes.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch

from hwdatasets.alphabet import Alphabet


class UnknownCharacterError(ValueError):
    """A text holds characters the codec's alphabet does not know."""


class Codec:
    """Encode texts to CTC labels and decode label paths back to texts.

    Args:
        alphabet: the characters to encode (an :class:`hwdatasets.alphabet.Alphabet`, or any
            iterable of single characters, which is turned into one).
    """

    blank: int = 0

    def __init__(self, alphabet: Alphabet | Iterable[str]):
        self.alphabet = alphabet if isinstance(alphabet, Alphabet) else Alphabet(alphabet)
        self._label = {c: i + 1 for i, c in enumerate(self.alphabet.chars)}
        self._char = {i + 1: c for i, c in enumerate(self.alphabet.chars)}

    @property
    def num_classes(self) -> int:
        """Number of output classes of a CTC model: the characters plus the blank."""
        return len(self.alphabet) + 1

    def encode(self, text: str) -> list[int]:
        """Labels of ``text`` (no blanks). Raises :class:`UnknownCharacterError` on unknown chars."""
        try:
            return [self._label[c] for c in text]
        except KeyError:
            missing = self.alphabet.missing(text)
            raise UnknownCharacterError(
                f"text {text!r} has character(s) {''.join(missing)!r} outside the alphabet "
                f"{self.alphabet.to_string()!r}"
            ) from None

    def encode_batch(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Concatenated labels and per-text lengths, the layout :func:`torch.nn.functional.ctc_loss` takes.

        Returns ``(targets [sum(lengths)] int64, lengths [N] int64)``.
        """
        labels = [self.encode(t) for t in texts]
        lengths = torch.tensor([len(x) for x in labels], dtype=torch.long)
        flat = torch.tensor([i for x in labels for i in x], dtype=torch.long)
        return flat, lengths

    def encode_padded(self, texts: Sequence[str], length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Labels padded with :attr:`blank` (0) to ``length`` (default: the longest text).

        Returns ``(labels [N, L] int64, lengths [N] int64)``; this is the generator's input.
        """
        labels = [self.encode(t) for t in texts]
        width = max((len(x) for x in labels), default=0) if length is None else length
        out = torch.full((len(labels), width), self.blank, dtype=torch.long)
        for i, x in enumerate(labels):
            if len(x) > width:
                raise ValueError(f"text {texts[i]!r} is longer than the padding length {width}")
            out[i, : len(x)] = torch.tensor(x, dtype=torch.long)
        return out, torch.tensor([len(x) for x in labels], dtype=torch.long)

    def decode(self, labels: Iterable[int]) -> str:
        """Text of labels, taken literally (no CTC collapsing); blanks are skipped."""
        return "".join(self._char[int(i)] for i in labels if int(i) != self.blank)

    def decode_path(self, path: Iterable[int]) -> str:
        """Text of a frame-wise CTC path: merge repeated labels, then drop blanks."""
        out: list[str] = []
        prev = None
        for i in path:
            i = int(i)
            if i != prev and i != self.blank:
                out.append(self._char[i])
            prev = i
        return "".join(out)

    def decode_greedy(self, log_probs: torch.Tensor, lengths: torch.Tensor | None = None) -> list[str]:
        """Best-path decoding of ``log_probs [T, N, C]`` (CTC layout), each cut to ``lengths[n]`` frames."""
        best = log_probs.argmax(dim=-1).T.tolist()  # [N, T]
        if lengths is not None:
            best = [p[: int(n)] for p, n in zip(best, lengths)]
        return [self.decode_path(p) for p in best]

    def __len__(self) -> int:
        return self.num_classes

    def __repr__(self) -> str:
        return f"Codec(blank=0, alphabet={self.alphabet.to_string()!r})"
