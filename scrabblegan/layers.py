"""Small building blocks shared by the generator and the discriminator: initialised SN layers."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


def _init_then_sn(module: nn.Module, use_sn: bool, std: float) -> nn.Module:
    # Initialise first, so the power iteration that spectral_norm runs on registration sees the final weights.
    with torch.no_grad():
        module.weight.normal_(0.0, std)
        if getattr(module, "bias", None) is not None:
            module.bias.zero_()
    return spectral_norm(module, eps=1e-6) if use_sn else module


def conv(in_ch: int, out_ch: int, kernel: int = 3, use_sn: bool = True, std: float = 0.02) -> nn.Module:
    """A same-padded conv with N(0, std) weights, spectrally normalised when ``use_sn``."""
    return _init_then_sn(nn.Conv2d(in_ch, out_ch, kernel, padding=kernel // 2), use_sn, std)


def linear(in_f: int, out_f: int, use_sn: bool = True, bias: bool = True, std: float = 0.02) -> nn.Module:
    """A linear layer with N(0, std) weights, spectrally normalised when ``use_sn``."""
    return _init_then_sn(nn.Linear(in_f, out_f, bias=bias), use_sn, std)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
