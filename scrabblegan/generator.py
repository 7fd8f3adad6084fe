"""ScrabbleGAN generator: one filter per character, concatenated, then BigGAN up-sampling blocks.

    labels [N, L], z [N, z_dim]
      -> filter bank: per character c a matrix W_c, h_c = W_c z_0 / sigma(W) + b   # [N, L, C0*4*4]
      -> side by side along the width                                        # [N, C0, 4, 4L]
      -> 3 residual up blocks, conditional BatchNorm driven by z_1, z_2, z_3
      -> BN, ReLU, conv to 1 channel, tanh                                   # [N, 1, 32, 16L]

Neighbouring characters overlap through the receptive field of the up blocks, which is what joins
the letters. Pixel values: [-1, 1] with paper white = +1 and ink = -1 (``uint8 / 127.5 - 1``).

Padding: texts of different lengths in one batch are padded with label 0 (the codec's blank) to
the longest. A padded position gets a zero feature column (no filter), and its output pixels are
meaningless: callers keep columns ``[0, 16 * len)`` of each image (see ``data.mask_width``, which
paints the rest white). Through the receptive field and the batch statistics of BatchNorm the
padding has a small influence on the valid part; generate texts of similar length together when
that matters.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from scrabblegan.config import BOTTOM, ModelConfig
from scrabblegan.layers import conv, linear


class ConditionalBatchNorm(nn.Module):
    """BatchNorm whose gain and bias are linear functions of a condition vector (BigGAN's ccbn).

    Args:
        channels: feature channels.
        cond_dim: size of the condition (a z chunk).
        use_sn: spectral norm on the two linear maps.
        std: init std of the linear maps (gain starts near 1, bias near 0).
    """

    def __init__(self, channels: int, cond_dim: int, use_sn: bool = True, std: float = 0.02):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=False)
        self.gain = linear(cond_dim, channels, use_sn, bias=False, std=std)
        self.bias = linear(cond_dim, channels, use_sn, bias=False, std=std)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        gain = 1.0 + self.gain(cond)[:, :, None, None]  # [N, C, 1, 1]
        bias = self.bias(cond)[:, :, None, None]
        if self.training:
            return self.bn(x) * gain + bias
        # Eval: fold the running statistics into the per-sample affine map, one pass over x.
        scale = gain * torch.rsqrt(self.bn.running_var + self.bn.eps)[None, :, None, None]
        return torch.addcmul(bias - self.bn.running_mean[None, :, None, None] * scale, x, scale)


class GBlock(nn.Module):
    """BigGAN residual up-sampling block: (cBN, ReLU, up, conv3) x 2 plus an up-sampled 1x1 shortcut.

    Args:
        in_ch, out_ch: channels.
        up: nearest-neighbour up-sampling factors (h, w).
        cond_dim: z chunk size for the conditional BatchNorms.
        use_sn: spectral norm on convs and linears.
        std: weight init std.
    """

    def __init__(self, in_ch: int, out_ch: int, up: tuple[int, int], cond_dim: int, use_sn: bool, std: float):
        super().__init__()
        self.up = tuple(up)
        self.bn1 = ConditionalBatchNorm(in_ch, cond_dim, use_sn, std)
        self.conv1 = conv(in_ch, out_ch, 3, use_sn, std)
        self.bn2 = ConditionalBatchNorm(out_ch, cond_dim, use_sn, std)
        self.conv2 = conv(out_ch, out_ch, 3, use_sn, std)
        self.shortcut = conv(in_ch, out_ch, 1, use_sn, std)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(x, cond))
        h = F.interpolate(h, scale_factor=self.up, mode="nearest")
        h = self.conv1(h)
        h = self.conv2(F.relu(self.bn2(h, cond)))
        # A 1x1 conv commutes with nearest up-sampling: convolve first, on 1/(uh*uw) of the pixels.
        sc = F.interpolate(self.shortcut(x), scale_factor=self.up, mode="nearest")
        return h + sc


class FilterBank(nn.Module):
    """Per-character filters modulated by a style chunk: ``h = (W_c z_0) / sigma(W) + b``.

    ``W`` holds one ``out_features x z_chunk`` matrix per symbol, stored as ``[z_chunk, symbols,
    out_features]`` so that all filters for all styles are one plain matrix product. Spectral norm
    treats the bank as one ``out_features x (symbols * z_chunk)`` matrix (the reference's SN linear
    over one-hot-times-z inputs; the storage order does not change its singular values). Dividing
    the *output* by sigma instead of the weight gives the same values and gradients as ``torch``'s
    ``spectral_norm`` (one power iteration per training forward, gradient through sigma) without
    materialising ``W / sigma``, which for this large matrix costs more than G's convolutions on a CPU.

    Args:
        num_symbols: label space including padding label 0.
        z_chunk: size of the style chunk.
        out_features: ``C0 * 4 * 4``.
        use_sn: spectral normalisation.
        std: N(0, std) init of ``W``.
    """

    def __init__(self, num_symbols: int, z_chunk: int, out_features: int, use_sn: bool = True, std: float = 0.02):
        super().__init__()
        self.num_symbols, self.z_chunk, self.out_features = num_symbols, z_chunk, out_features
        self.weight = nn.Parameter(torch.randn(z_chunk, num_symbols, out_features) * std)  # [zc, S, K]
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.use_sn = use_sn
        if use_sn:
            self.register_buffer("u", F.normalize(torch.randn(z_chunk * num_symbols), dim=0, eps=1e-6))
            self.register_buffer("v", F.normalize(torch.randn(out_features), dim=0, eps=1e-6))
            self._power_iteration(15)

    def _matrix(self) -> torch.Tensor:
        return self.weight.view(self.z_chunk * self.num_symbols, self.out_features)  # [zc * S, K]

    @torch.no_grad()
    def _power_iteration(self, n: int) -> None:
        w = self._matrix()
        for _ in range(n):
            self.v.copy_(F.normalize(w.T @ self.u, dim=0, eps=1e-6))
            self.u.copy_(F.normalize(w @ self.v, dim=0, eps=1e-6))

    def sigma(self) -> torch.Tensor:
        """Largest singular value estimate ``u^T W v`` (u, v fixed; gradient flows to W)."""
        if self.training:
            self._power_iteration(1)
        return torch.dot(self.u.clone(), self._matrix() @ self.v.clone())

    def forward(self, labels: torch.Tensor, z0: torch.Tensor) -> torch.Tensor:
        """``labels [N, L]`` (0 = padding), ``z0 [N, zc]`` -> ``[N, L, K]``, zero at padding."""
        n, length = labels.shape
        k = self.out_features
        # Every symbol's filter for every style in one product (small: N x S x K), then pick.
        per_symbol = (z0 @ self.weight.view(self.z_chunk, -1)).view(n, self.num_symbols, k)  # [N, S, K]
        if self.use_sn:
            per_symbol = per_symbol / self.sigma()
        h = per_symbol.gather(1, labels.unsqueeze(-1).expand(n, length, k)) + self.bias  # [N, L, K]
        return h * (labels != 0).unsqueeze(-1).to(h.dtype)


class Generator(nn.Module):
    """Text + style vector -> word image ``[N, 1, 32, 16 * L]``.

    Args:
        num_symbols: size of the label space including padding label 0 (``Codec.num_classes``).
        cfg: sizes (``g_ch``, ``g_blocks``, ``z_dim``, ``z_chunks``, ``spectral_norm``, ``init_std``).
    """

    def __init__(self, num_symbols: int, cfg: ModelConfig):
        super().__init__()
        cfg.validate()
        self.num_symbols = num_symbols
        self.z_dim, self.z_chunk = cfg.z_dim, cfg.z_chunk
        self.ch0 = cfg.g_blocks[0][0] * cfg.g_ch
        use_sn, std = cfg.spectral_norm, cfg.init_std
        self.bank = FilterBank(num_symbols, self.z_chunk, self.ch0 * BOTTOM * BOTTOM, use_sn, std)
        self.blocks = nn.ModuleList(
            GBlock(i * cfg.g_ch, o * cfg.g_ch, tuple(up), self.z_chunk, use_sn, std) for i, o, up in cfg.g_blocks
        )
        last = cfg.g_blocks[-1][1] * cfg.g_ch
        self.out_bn = nn.BatchNorm2d(last)
        self.out_conv = conv(last, 1, 3, use_sn, std)

    def filters(self, labels: torch.Tensor, z0: torch.Tensor) -> torch.Tensor:
        """Per-character filter outputs side by side: ``labels [N, L]``, ``z0 [N, zc]`` -> ``[N, C0, 4, 4L]``."""
        n, length = labels.shape
        h = self.bank(labels, z0)  # [N, L, C0 * 16]
        h = h.view(n, length, self.ch0, BOTTOM, BOTTOM).permute(0, 2, 3, 1, 4)  # [N, C0, 4, L, 4]
        return h.reshape(n, self.ch0, BOTTOM, length * BOTTOM)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """``z [N, z_dim]``, ``labels [N, L]`` (0 = padding) -> images ``[N, 1, 32, 16 L]`` in [-1, 1]."""
        if z.shape[1] != self.z_dim or labels.shape[0] != z.shape[0]:
            raise ValueError(f"expected z [N, {self.z_dim}] and labels [N, L], got {tuple(z.shape)} and {tuple(labels.shape)}")
        chunks = torch.split(z, self.z_chunk, dim=1)
        h = self.filters(labels, chunks[0])  # [N, C0, 4, 4L]
        for block, cond in zip(self.blocks, chunks[1:]):
            h = block(h, cond)
        h = self.out_conv(F.relu(self.out_bn(h)))  # [N, 1, 32, 16L]
        return torch.tanh(h)
