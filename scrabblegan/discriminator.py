"""ScrabbleGAN discriminator: BigGAN residual down blocks with spectral norm, fully convolutional.

    image [N, 1, 32, W]  ->  blocks (3 of them halve H and W)  ->  ReLU, 1x1 conv  ->  [N, 1, 4, W/8]
    score per image = mean of the per-position scores over the valid columns of that image.

Taking the mean (BigGAN sums) makes the score independent of the word's length. Images padded to a
common width pass their true ``widths``; columns that only see padding are left out of the mean.
D never sees labels, so unlabelled real images train it too.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from scrabblegan.config import ModelConfig
from scrabblegan.layers import conv


class DBlock(nn.Module):
    """BigGAN residual down block: (ReLU, conv3) x 2, average-pool by 2, plus a 1x1 shortcut.

    Args:
        in_ch, out_ch: channels.
        down: halve height and width at the end.
        preactivation: ReLU before the first conv (False for the block that sees the image).
        use_sn: spectral norm on the convs.
        std: weight init std.
    """

    def __init__(self, in_ch: int, out_ch: int, down: bool, preactivation: bool, use_sn: bool, std: float):
        super().__init__()
        self.down, self.preactivation = down, preactivation
        self.conv1 = conv(in_ch, out_ch, 3, use_sn, std)
        self.conv2 = conv(out_ch, out_ch, 3, use_sn, std)
        self.shortcut = conv(in_ch, out_ch, 1, use_sn, std) if (in_ch != out_ch or down) else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(x) if self.preactivation else x
        h = self.conv2(F.relu(self.conv1(h)))
        if self.down:
            h = F.avg_pool2d(h, 2)
        sc = x
        if self.shortcut is not None:
            # Pool and 1x1 conv commute; do the cheaper order (fewer channels at full size first).
            if self.down and self.shortcut.out_channels > self.shortcut.in_channels:
                sc = self.shortcut(F.avg_pool2d(x, 2))
            else:
                sc = self.shortcut(x)
                sc = F.avg_pool2d(sc, 2) if self.down else sc
        return h + sc


class Discriminator(nn.Module):
    """Real/fake score for each image of any width.

    Args:
        cfg: sizes (``d_ch``, ``d_blocks``, ``spectral_norm``, ``init_std``).
        in_channels: image channels (1).
    """

    def __init__(self, cfg: ModelConfig, in_channels: int = 1):
        super().__init__()
        blocks, ch = [], in_channels
        for i, (mult, down) in enumerate(cfg.d_blocks):
            blocks.append(DBlock(ch, mult * cfg.d_ch, bool(down), i > 0, cfg.spectral_norm, cfg.init_std))
            ch = mult * cfg.d_ch
        self.blocks = nn.Sequential(*blocks)
        self.out = conv(ch, 1, 1, cfg.spectral_norm, cfg.init_std)
        self.reduction = 2 ** sum(bool(d) for _, d in cfg.d_blocks)

    def score_map(self, x: torch.Tensor) -> torch.Tensor:
        """Per-position scores ``[N, 1, 32 / r, W // r]`` with ``r = 2 ** (number of down blocks)``."""
        return self.out(F.relu(self.blocks(x)))

    def forward(self, x: torch.Tensor, widths: torch.Tensor | None = None) -> torch.Tensor:
        """``x [N, 1, 32, W]``, optional true ``widths [N]`` -> scores ``[N]`` (float32)."""
        s = self.score_map(x).float()  # [N, 1, h, w]
        if widths is None:
            return s.mean(dim=(1, 2, 3))
        w = s.shape[-1]
        valid = ((widths.to(s.device) + self.reduction - 1) // self.reduction).clamp(1, w)  # [N] ceil
        mask = (torch.arange(w, device=s.device)[None, :] < valid[:, None]).to(s.dtype)  # [N, w]
        col = s.mean(dim=(1, 2))  # [N, w]
        return (col * mask).sum(1) / valid.to(s.dtype)
