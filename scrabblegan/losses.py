"""Hinge losses and ScrabbleGAN's gradient balancing, as pure functions.

The generator update uses exactly one backward pass through G:

    fake = G(z, text)                                   (graph kept)
    x = fake.detach().requires_grad_()
    g_adv = d(adv_loss(D(x))) / dx                      (through D only, no parameter gradients)
    g_ctc = d(ctc_loss(R(x))) / dx                      (through R only)
    fake.backward(g_adv + balance_scale(g_adv, g_ctc, alpha) * g_ctc)     (the one pass through G)

which equals the gradient of ``adv + s * ctc`` with ``s`` held constant, as in the paper.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def d_hinge(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Discriminator hinge loss terms ``(mean relu(1 - real), mean relu(1 + fake))``; the loss is their sum."""
    return F.relu(1.0 - real_scores).mean(), F.relu(1.0 + fake_scores).mean()


def g_hinge(fake_scores: torch.Tensor) -> torch.Tensor:
    """Generator hinge loss ``-mean(D(fake))``."""
    return -fake_scores.mean()


def balance_scale(grad_adv: torch.Tensor, grad_ctc: torch.Tensor, alpha: float, eps: float = 1e-12) -> torch.Tensor:
    """Scale for the CTC gradient so that ``std(scale * grad_ctc) = alpha * std(grad_adv)``.

    Both are gradients with respect to the same generated images. The result is a detached
    0-dim tensor (a constant of the update). If the CTC gradient is all zero the scale is 0.
    """
    std_adv = grad_adv.detach().float().std()
    std_ctc = grad_ctc.detach().float().std()
    if std_ctc <= eps:
        return torch.zeros((), device=grad_adv.device)
    return alpha * std_adv / std_ctc


def balanced_gradient(grad_adv: torch.Tensor, grad_ctc: torch.Tensor, alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``(grad_adv + s * grad_ctc, s)`` with ``s = balance_scale(grad_adv, grad_ctc, alpha)``."""
    s = balance_scale(grad_adv, grad_ctc, alpha)
    return grad_adv + s.to(grad_ctc.dtype) * grad_ctc, s
