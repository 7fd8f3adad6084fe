"""CTC loss that refuses impossible targets instead of averaging NaNs or infinities away."""
from __future__ import annotations

import logging

import torch
import torch.nn.functional as F

log = logging.getLogger(__name__)


def ctc_feasible(targets: torch.Tensor, target_lengths: torch.Tensor, input_lengths: torch.Tensor) -> torch.Tensor:
    """Which samples have a CTC alignment at all: ``T >= L + (number of adjacent repeats)``.

    A repeated label ("ll") needs a blank frame between its two copies, hence the repeats term.

    Args:
        targets: concatenated labels ``[sum(L)]`` (the layout of :meth:`Codec.encode_batch`).
        target_lengths: ``[N]`` label counts.
        input_lengths: ``[N]`` frame counts.
    Returns:
        bool ``[N]``.
    """
    needed = []
    start = 0
    for n in target_lengths.tolist():
        seq = targets[start : start + n]
        repeats = int((seq[1:] == seq[:-1]).sum()) if n > 1 else 0
        needed.append(n + repeats)
        start += n
    return input_lengths.cpu() >= torch.tensor(needed, dtype=torch.long)


def ctc_loss(
    log_probs: torch.Tensor,
    targets: torch.Tensor,
    target_lengths: torch.Tensor,
    input_lengths: torch.Tensor,
    blank: int = 0,
) -> tuple[torch.Tensor, int]:
    """Mean CTC loss over the samples whose target fits in their frames.

    Samples with no possible alignment (too long for their image) are dropped and counted, with a
    logged warning, rather than producing ``inf`` (or silently zero with ``zero_infinity``).

    Args:
        log_probs: ``[T, N, C]`` log-probabilities (apply ``log_softmax`` first; the recognizers here do).
        targets: concatenated labels ``[sum(target_lengths)]``.
        target_lengths: ``[N]``.
        input_lengths: ``[N]`` valid frames per sample (e.g. ``ConvTrunk.output_length(widths)``).
        blank: blank label.
    Returns:
        ``(loss, dropped)``: the loss (per-sample CTC divided by target length, averaged over the
        kept samples; exactly 0, still attached to the graph, when none is kept) and the number dropped.
    """
    targets, target_lengths, input_lengths = targets.cpu(), target_lengths.cpu(), input_lengths.cpu()
    ok = ctc_feasible(targets, target_lengths, input_lengths)
    dropped = int((~ok).sum())
    if dropped:
        log.warning("CTC: dropped %d of %d sample(s) whose text cannot fit their image width", dropped, len(ok))
        if dropped == len(ok):
            return log_probs.sum() * 0.0, dropped
        targets = targets[torch.repeat_interleave(ok, target_lengths)]
        log_probs = log_probs.index_select(1, ok.nonzero().squeeze(1).to(log_probs.device))
        target_lengths, input_lengths = target_lengths[ok], input_lengths[ok]
    # Targets on the device of log_probs (CUDA's kernel wants that), lengths on the CPU.
    loss = F.ctc_loss(log_probs.float(), targets.to(log_probs.device), input_lengths, target_lengths,
                      blank=blank, reduction="mean", zero_infinity=False)
    return loss, dropped
