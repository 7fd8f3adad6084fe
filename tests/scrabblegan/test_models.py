"""Generic forward/backward tests of G, D and R for every preset, at tiny sizes."""
import pytest
import torch

from recognizer.trunk import ConvRecognizer
from scrabblegan.config import ARCHITECTURES, ModelConfig
from scrabblegan.data import mask_width
from scrabblegan.discriminator import Discriminator
from scrabblegan.generator import Generator

NUM_SYMBOLS = 6  # padding/blank + 5 characters


def _labels(lengths):
    out = torch.zeros(len(lengths), max(lengths), dtype=torch.long)
    for i, n in enumerate(lengths):
        out[i, :n] = torch.arange(n) % (NUM_SYMBOLS - 1) + 1
    return out


@pytest.mark.parametrize("preset", sorted(ARCHITECTURES))
def test_every_parameter_gets_a_finite_gradient(preset):
    torch.manual_seed(0)
    cfg = ModelConfig.from_preset(preset)
    G, D = Generator(NUM_SYMBOLS, cfg), Discriminator(cfg)
    R = ConvRecognizer(NUM_SYMBOLS, cfg.r_ch)
    lengths = [1, 3] if preset == "paper" else [1, 2, 5]
    fake = G(torch.randn(len(lengths), cfg.z_dim), _labels(lengths))  # [N, 1, 32, 16 L]
    assert fake.shape == (len(lengths), 1, 32, 16 * max(lengths))
    widths = torch.tensor(lengths) * 16
    x = mask_width(fake, widths)
    loss = D(x, widths).mean() + R(x).mean()
    assert torch.isfinite(loss)
    loss.backward()
    for net in (G, D, R):
        for name, p in net.named_parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all(), f"{type(net).__name__}.{name}"
            assert p.grad.abs().sum() > 0, f"{type(net).__name__}.{name} has an all-zero gradient"


def test_any_length_from_1_to_40_width_is_16_per_char():
    torch.manual_seed(0)
    cfg = ModelConfig.from_preset("tiny")
    G = Generator(NUM_SYMBOLS, cfg).eval()
    D = Discriminator(cfg)
    for lengths in ([1], [40], [1, 17, 40]):
        out = G(torch.randn(len(lengths), cfg.z_dim), _labels(lengths))
        assert out.shape[-2:] == (32, 16 * max(lengths))
        assert torch.isfinite(out).all() and out.abs().max() <= 1
        assert D(out, torch.tensor(lengths) * 16).shape == (len(lengths),)


def test_padding_does_not_change_a_word_much_and_eval_is_deterministic():
    """In eval mode (running BN statistics) the valid part of a word barely depends on padding."""
    torch.manual_seed(0)
    cfg = ModelConfig.from_preset("tiny")
    G = Generator(NUM_SYMBOLS, cfg).eval()
    z = torch.randn(1, cfg.z_dim)
    alone = G(z, _labels([3]))
    padded = G(z, torch.cat([_labels([3]), torch.zeros(1, 5, dtype=torch.long)], 1))
    assert torch.equal(G(z, _labels([3])), alone)
    # Only the columns whose receptive field reaches the padding differ.
    torch.testing.assert_close(padded[..., :16], alone[..., :16])


def test_discriminator_masked_mean_ignores_padding():
    torch.manual_seed(0)
    D = Discriminator(ModelConfig.from_preset("tiny"))
    x = torch.rand(1, 1, 32, 64) * 2 - 1
    wide = torch.cat([x, torch.randn(1, 1, 32, 64)], -1)
    torch.testing.assert_close(D(x), D(wide, torch.tensor([64])), atol=0.05, rtol=0)


def test_config_rejects_wrong_geometry():
    cfg = ModelConfig.from_preset("tiny", g_blocks=[[8, 4, [2, 1]], [4, 2, [2, 2]], [2, 1, [2, 1]]])
    with pytest.raises(ValueError, match="per character"):
        cfg.validate()


def test_filter_bank_spectral_norm_matches_dividing_the_weight():
    """Scaling the bank's output by 1/sigma equals using W / sigma, in values and gradients."""
    from scrabblegan.generator import FilterBank

    torch.manual_seed(0)
    bank = FilterBank(num_symbols=5, z_chunk=3, out_features=8, use_sn=True, std=0.5)
    bank._power_iteration(200)
    sigma = torch.linalg.matrix_norm(bank.weight.detach().permute(2, 1, 0).reshape(8, 15), ord=2)
    torch.testing.assert_close(bank.sigma(), sigma, rtol=1e-4, atol=0)

    labels, z0 = torch.tensor([[1, 4, 0], [2, 2, 3]]), torch.randn(2, 3)
    bank.eval()  # no power iteration, so both computations see the same u, v
    out = bank(labels, z0)
    (out ** 2).sum().backward()
    grad = bank.weight.grad.clone()
    bank.weight.grad = None
    w = bank.weight / bank.sigma()  # [zc, S, K]
    ref = torch.einsum("nz,nlzk->nlk", z0, w[:, labels].permute(1, 2, 0, 3)) + bank.bias
    ref = ref * (labels != 0).unsqueeze(-1)
    torch.testing.assert_close(out, ref)
    (ref ** 2).sum().backward()
    torch.testing.assert_close(bank.weight.grad, grad)


def test_conditional_batchnorm_eval_fold_matches_train_formula():
    from scrabblegan.generator import ConditionalBatchNorm

    torch.manual_seed(0)
    cbn = ConditionalBatchNorm(6, 4, use_sn=True, std=0.3)
    for _ in range(3):  # non-trivial running statistics
        cbn(torch.randn(5, 6, 3, 7) * 2 + 1, torch.randn(5, 4))
    cbn.eval()
    x, c = torch.randn(2, 6, 3, 7), torch.randn(2, 4)
    expected = cbn.bn(x) * (1 + cbn.gain(c))[:, :, None, None] + cbn.bias(c)[:, :, None, None]
    torch.testing.assert_close(cbn(x, c), expected)
