"""CRNN-style convolutional trunk, and the conv-only CTC recognizer built on it.

The trunk maps a 32 px high grayscale image to a sequence of feature frames:

    [N, 1, 32, W]  ->  [N, C, T]   with   T = W // 4   (frames 4 px apart, downsampling 4)

Height is reduced 32 -> 1 by pooling (2, 2, 2, 2) and a final 2-row convolution; width is halved
twice (the first two poolings) and kept afterwards, so a text generated at 16 px per character
gets 4 frames per character, ample for CTC (which needs at most 2 frames per character).

:class:`ConvRecognizer` (trunk + per-frame linear classifier, no recurrent head) is ScrabbleGAN's
deliberately weak recognizer: with a receptive field of a few characters it can only accept text
that is legible locally. The full CRNN adds a BiLSTM head on the same trunk.
"""
from __future__ import annotations

import torch
from torch import nn

# Architecture as data: (channel multiplier of `base`, pooling after the layer (h, w) or None).
# Input height 32: pools give 16, 8, 4, 2; the final (2 x 3) conv takes 2 -> 1.
TRUNK_LAYERS: list[tuple[int, tuple[int, int] | None]] = [
    (1, (2, 2)),
    (2, (2, 2)),
    (4, None),
    (4, (2, 1)),
    (8, None),
    (8, (2, 1)),
]
HEIGHT = 32
WIDTH_FACTOR = 4  # product of the width poolings above


class ConvTrunk(nn.Module):
    """Conv stack ``[N, 1, 32, W] -> [N, C, T]``, ``C = 8 * base``, ``T = W // 4``.

    Args:
        base: channel width of the first layer (CRNN uses 64: 64-128-256-256-512-512-512).
        in_channels: image channels (1 for grayscale).
        batchnorm: put BatchNorm after every conv but the first two (as in CRNN).
    """

    def __init__(self, base: int = 64, in_channels: int = 1, batchnorm: bool = True):
        super().__init__()
        layers: list[nn.Module] = []
        ch = in_channels
        for i, (mult, pool) in enumerate(TRUNK_LAYERS):
            out = base * mult
            layers.append(nn.Conv2d(ch, out, 3, padding=1, bias=not (batchnorm and i >= 2)))
            if batchnorm and i >= 2:
                layers.append(nn.BatchNorm2d(out))
            layers.append(nn.ReLU(inplace=True))
            if pool is not None:
                layers.append(nn.MaxPool2d(pool, pool))
            ch = out
        # Collapse the last 2 rows into one; keep the width (3 wide, padded).
        layers += [nn.Conv2d(ch, ch, (2, 3), padding=(0, 1)), nn.ReLU(inplace=True)]
        self.body = nn.Sequential(*layers)
        self.out_channels = ch

    @staticmethod
    def output_length(width: int | torch.Tensor) -> int | torch.Tensor:
        """Number of frames for an image (or a tensor of images) ``width`` px wide: ``W // 4``."""
        return width // WIDTH_FACTOR

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2] != HEIGHT:
            raise ValueError(f"ConvTrunk expects images {HEIGHT} px high, got shape {tuple(x.shape)}")
        h = self.body(x)  # [N, C, 1, T]
        return h.squeeze(2)  # [N, C, T]


class ConvRecognizer(nn.Module):
    """Trunk + per-frame linear layer to ``num_classes`` (alphabet + blank) log-probabilities.

    Args:
        num_classes: output classes including the CTC blank (``Codec.num_classes``).
        base: trunk channel base (see :class:`ConvTrunk`).
        batchnorm: BatchNorm in the trunk.
    """

    def __init__(self, num_classes: int, base: int = 64, batchnorm: bool = True):
        super().__init__()
        self.trunk = ConvTrunk(base, batchnorm=batchnorm)
        self.classifier = nn.Linear(self.trunk.out_channels, num_classes)

    output_length = staticmethod(ConvTrunk.output_length)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x [N, 1, 32, W]`` in [-1, 1] -> log-probabilities ``[T, N, num_classes]`` (CTC layout)."""
        h = self.trunk(x)  # [N, C, T]
        logits = self.classifier(h.permute(2, 0, 1))  # [T, N, K]
        return logits.float().log_softmax(-1)
