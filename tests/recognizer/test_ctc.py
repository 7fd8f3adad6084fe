import logging

import torch
import torch.nn.functional as F

from recognizer.ctc import ctc_feasible, ctc_loss


def test_feasibility_counts_repeats():
    targets = torch.tensor([1, 1, 2, 3])  # "aa" needs 3 frames; "bc" needs 2
    lengths = torch.tensor([2, 2])
    assert ctc_feasible(targets, lengths, torch.tensor([2, 2])).tolist() == [False, True]
    assert ctc_feasible(targets, lengths, torch.tensor([3, 1])).tolist() == [True, False]


def test_drops_impossible_targets_with_warning(caplog):
    torch.manual_seed(0)
    log_probs = torch.randn(4, 3, 5).log_softmax(-1).requires_grad_()
    targets = torch.tensor([1, 2, 1, 2, 3, 4, 1, 2, 3])  # "ab", "abcda", "bc"
    lengths = torch.tensor([2, 5, 2])  # the middle one needs 5 frames but has 4
    frames = torch.tensor([4, 4, 4])
    with caplog.at_level(logging.WARNING):
        loss, dropped = ctc_loss(log_probs, targets, lengths, frames)
    assert dropped == 1 and "dropped 1 of 3" in caplog.text
    keep = log_probs[:, [0, 2]]
    expected = F.ctc_loss(keep, torch.tensor([1, 2, 2, 3]), torch.tensor([4, 4]), torch.tensor([2, 2]))
    torch.testing.assert_close(loss, expected)
    loss.backward()
    assert torch.isfinite(log_probs.grad).all() and log_probs.grad[:, 1].abs().sum() == 0


def test_all_dropped_gives_zero_with_graph():
    log_probs = torch.randn(2, 2, 4).log_softmax(-1).requires_grad_()
    loss, dropped = ctc_loss(log_probs, torch.tensor([1, 2, 3, 1, 2, 3]), torch.tensor([3, 3]), torch.tensor([2, 2]))
    assert dropped == 2 and loss.item() == 0.0
    loss.backward()
