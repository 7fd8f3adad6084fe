"""Batch-independent, fast inference with a trained generator (what ``generate`` and ``sample`` run).

Why not just call ``Generator.forward``? Two reasons, both measured on this CPU:

1. **Byte-identical images whatever the batch.** ``G(z, labels)`` runs three kinds of matrix
   products on the style vectors (the filter bank and the conditional BatchNorm gains/biases).
   BLAS picks different kernels for different row counts (below 8 rows its per-row results
   differ in the last bit), so the same (word, style) could round to a different uint8 pixel at
   batch 1 than at batch 64. Here every style-dependent quantity is computed once per style, on
   that style alone (always the same shapes, hence the same kernels), into a :class:`StyleTable`;
   the per-batch forward is then gathers, element-wise affine maps, convolutions and activations.
   Convolutions are row-independent from :data:`MIN_ROWS` rows on, but oneDNN and PyTorch route
   smaller batches (1x1 kernels below 16 rows, some small-channel 3x3 kernels at 1 row) to other
   kernels; so a call with fewer rows is padded to :data:`MIN_ROWS` by repeating its last row,
   and the extra outputs are dropped (batch 1 thus costs as much as batch 16). A batch holds one
   style and one text length (no padding of the text: padded columns change the neighbouring
   valid pixels through the receptive field).
2. **Speed.** Spectral norm is folded into plain weights once (no ``W / sigma`` per call), the
   eval BatchNorm statistics are folded into per-channel scale and shift, and the convolutions run
   channels-last under ``torch.inference_mode``.

Pixel values agree with ``Generator.forward`` in eval mode to float rounding (tested).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from scrabblegan.config import BOTTOM
from scrabblegan.generator import ConditionalBatchNorm, Generator

MIN_ROWS = 16  # every forward runs on at least this many rows (see the module docstring)


@dataclass
class StyleTable:
    """Everything in the generator that depends on one style vector.

    filters: ``[S, C0 * 4 * 4]`` the filter-bank output of every symbol for this style (bias added).
    affine:  per conditional BatchNorm (block 1 bn1, bn2, block 2 bn1, ...): ``(scale [C], shift [C])``
             with the running statistics folded in, so ``cbn(x) = x * scale + shift``.
    """

    filters: torch.Tensor
    affine: list[tuple[torch.Tensor, torch.Tensor]]


def _conv_params(conv: nn.Conv2d) -> tuple[torch.Tensor, torch.Tensor | None, int]:
    """A conv's effective weight (spectral norm applied, eval mode: no power iteration), bias, padding."""
    bias = conv.bias.detach() if conv.bias is not None else None
    return conv.weight.detach().clone(), bias, conv.padding[0]


def _cbn_affine(bn: ConditionalBatchNorm, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode conditional BN as ``x * scale + shift`` for one condition row ``cond [1, d]``."""
    gain = 1.0 + bn.gain(cond)[0]  # [C]
    bias = bn.bias(cond)[0]
    scale = gain * torch.rsqrt(bn.bn.running_var + bn.bn.eps)
    return scale, bias - bn.bn.running_mean * scale


def _affine(x: torch.Tensor, scale_shift: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    scale, shift = scale_shift
    return torch.addcmul(shift[None, :, None, None], x, scale[None, :, None, None])


class StyledGenerator:
    """A frozen inference version of a :class:`Generator` on ``device``.

    Args:
        G: the generator (use the EMA weights). Its weights are copied (spectral norm applied,
            BatchNorm statistics folded); the module itself is only read, in eval mode.
        device: where to run.
        channels_last: run the convolutions in channels-last memory format (faster on CPU oneDNN).
    """

    def __init__(self, G: Generator, device: torch.device | str = "cpu", channels_last: bool = True):
        self.device = torch.device(device)
        self.G = G
        self.z_dim, self.z_chunk, self.ch0 = G.z_dim, G.z_chunk, G.ch0
        self.num_symbols = G.num_symbols
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        with _eval(G), torch.no_grad():
            bank = G.bank
            self._bank_w = bank.weight.detach().reshape(bank.z_chunk, -1).to(self.device)  # [zc, S * K]
            sigma = bank.sigma() if bank.use_sn else torch.ones(())
            self._bank_sigma, self._bank_bias = sigma.detach().to(self.device), bank.bias.detach().to(self.device)
            self.blocks = []
            for block in G.blocks:
                convs = {name: self._to_device(_conv_params(getattr(block, name))) for name in ("conv1", "conv2", "shortcut")}
                self.blocks.append((tuple(block.up), convs))
            self.out_conv = self._to_device(_conv_params(G.out_conv))
            bn = G.out_bn
            scale = torch.rsqrt(bn.running_var + bn.eps) * (bn.weight if bn.affine else 1.0)
            shift = (bn.bias if bn.affine else 0.0) - bn.running_mean * scale
            self._out_affine = (scale.detach().to(self.device), shift.detach().to(self.device))

    def _to_device(self, params: tuple) -> tuple:
        weight, bias, padding = params
        weight = weight.to(self.device).contiguous(memory_format=self.memory_format)
        return weight, (bias.to(self.device) if bias is not None else None), padding

    @torch.inference_mode()
    def style_table(self, z: torch.Tensor) -> StyleTable:
        """The :class:`StyleTable` of one style vector ``z [z_dim]`` (always computed on one row)."""
        if z.shape != (self.z_dim,):
            raise ValueError(f"expected one style vector of size {self.z_dim}, got shape {tuple(z.shape)}")
        z = z.float()[None]  # [1, z_dim]
        chunks = torch.split(z.to(self.device), self.z_chunk, dim=1)  # each [1, zc]
        filters = (chunks[0] @ self._bank_w).view(self.num_symbols, -1) / self._bank_sigma + self._bank_bias
        affine = []
        with _eval(self.G):
            param_device = next(self.G.parameters()).device
            for block, cond in zip(self.G.blocks, torch.split(z.to(param_device), self.z_chunk, dim=1)[1:]):
                for bn in (block.bn1, block.bn2):
                    scale, shift = _cbn_affine(bn, cond)
                    affine.append((scale.to(self.device), shift.to(self.device)))
        return StyleTable(filters.contiguous(), affine)

    @torch.inference_mode()
    def __call__(self, table: StyleTable, labels: torch.Tensor) -> torch.Tensor:
        """Images ``[n, 1, 32, 16 L]`` in [-1, 1] of ``labels [n, L]`` (no padding) in one style."""
        if labels.ndim != 2 or bool((labels <= 0).any()) or int(labels.max()) >= self.num_symbols:
            raise ValueError("labels must be [n, L] with every entry a character label (1 .. S-1), no padding")
        n, length = labels.shape
        if n < MIN_ROWS:
            labels = torch.cat([labels, labels[-1:].expand(MIN_ROWS - n, length)])
        return self._forward(table, labels)[:n]

    def _forward(self, table: StyleTable, labels: torch.Tensor) -> torch.Tensor:
        n, length = labels.shape
        h = table.filters[labels.to(self.device)]  # [n, L, C0 * 16]
        h = h.view(n, length, self.ch0, BOTTOM, BOTTOM).permute(0, 2, 3, 1, 4)  # [n, C0, 4, L, 4]
        h = h.reshape(n, self.ch0, BOTTOM, length * BOTTOM).contiguous(memory_format=self.memory_format)
        for i, (up, convs) in enumerate(self.blocks):
            x = F.interpolate(F.relu(_affine(h, table.affine[2 * i])), scale_factor=up, mode="nearest")
            x = _conv(F.relu(_affine(_conv(x, convs["conv1"]), table.affine[2 * i + 1])), convs["conv2"])
            # 1x1 shortcut before up-sampling (they commute), as Generator does.
            h = x + F.interpolate(_conv(h, convs["shortcut"]), scale_factor=up, mode="nearest")
        h = _conv(F.relu(_affine(h, self._out_affine)), self.out_conv)  # [n, 1, 32, 16 L]
        return torch.tanh(h)


def _conv(x: torch.Tensor, params: tuple) -> torch.Tensor:
    weight, bias, padding = params
    return F.conv2d(x, weight, bias, padding=padding)


class _eval:
    """Context manager: a module in eval mode inside, its previous mode restored after."""

    def __init__(self, module: nn.Module):
        self.module, self.was_training = module, module.training

    def __enter__(self) -> nn.Module:
        return self.module.eval()

    def __exit__(self, *exc: object) -> None:
        self.module.train(self.was_training)


def to_uint8_batch(images: torch.Tensor):
    """``[n, 1, H, W]`` in [-1, 1] -> uint8 numpy ``[n, H, W]``, ``(x + 1) * 127.5`` rounded (as
    :func:`scrabblegan.samples.to_uint8`, without per-image cropping)."""
    return ((images.float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)[:, 0].cpu().numpy()
