import pytest
import torch

from recognizer.trunk import ConvRecognizer, ConvTrunk


@pytest.mark.parametrize("width", [4, 16, 18, 160, 643])
def test_frames_are_width_over_four(width):
    torch.manual_seed(0)
    trunk = ConvTrunk(base=4)
    out = trunk(torch.randn(2, 1, 32, width))
    assert out.shape == (2, 32, width // 4) == (2, trunk.out_channels, ConvTrunk.output_length(width))


@pytest.mark.parametrize("batchnorm", [True, False])
def test_recognizer_forward_backward_every_parameter(batchnorm):
    torch.manual_seed(0)
    model = ConvRecognizer(num_classes=7, base=4, batchnorm=batchnorm)
    x = torch.randn(3, 1, 32, 48, requires_grad=True)
    log_probs = model(x)
    assert log_probs.shape == (12, 3, 7)
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(12, 3))
    log_probs.mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert x.grad.abs().sum() > 0


def test_rejects_wrong_height():
    with pytest.raises(ValueError, match="32 px high"):
        ConvTrunk(base=2)(torch.randn(1, 1, 64, 64))
