import torch

from scrabblegan import losses


def test_hinge_values():
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.0])
    lr, lf = losses.d_hinge(real, fake)
    assert lr.item() == 0.25 and lf.item() == 0.5
    assert losses.g_hinge(fake).item() == 1.0


def test_balance_scale_matches_known_statistics():
    g = torch.Generator().manual_seed(0)
    grad_adv = torch.randn(8, 1, 32, 160, generator=g) * 2.0
    grad_ctc = torch.randn(8, 1, 32, 160, generator=g) * 0.01 + 3.0  # the mean does not matter, only std
    scale = losses.balance_scale(grad_adv, grad_ctc, alpha=0.5)
    torch.testing.assert_close(scale, torch.tensor(0.5 * 2.0 / 0.01), rtol=0.02, atol=0)
    combined, s = losses.balanced_gradient(grad_adv, grad_ctc, alpha=0.5)
    torch.testing.assert_close((s * grad_ctc).std(), 0.5 * grad_adv.std())
    torch.testing.assert_close(combined, grad_adv + s * grad_ctc)
    assert not s.requires_grad


def test_zero_ctc_gradient_gives_zero_scale():
    grad_adv = torch.randn(4, 10)
    assert losses.balance_scale(grad_adv, torch.zeros(4, 10), alpha=1.0).item() == 0.0


def test_one_backward_equals_gradient_of_weighted_sum():
    """The image-gradient trick gives G the gradient of adv + s * ctc with s held constant."""
    torch.manual_seed(0)
    G = torch.nn.Linear(3, 12)
    D = torch.nn.Linear(12, 1)
    R = torch.nn.Sequential(torch.nn.Linear(12, 5), torch.nn.Tanh())
    z = torch.randn(4, 3)

    fake = G(z)
    x = fake.detach().requires_grad_()
    adv, ctc = -D(x).mean(), (R(x) ** 2).mean()
    (ga,), (gc,) = torch.autograd.grad(adv, x), torch.autograd.grad(ctc, x)
    grad, s = losses.balanced_gradient(ga, gc, alpha=0.7)
    fake.backward(grad)
    one_pass = [p.grad.clone() for p in G.parameters()]
    assert all(p.grad is None for p in D.parameters())  # no gradient work for D's weights

    G.zero_grad()
    fake = G(z)
    (-D(fake).mean() + s * (R(fake) ** 2).mean()).backward()
    for a, b in zip(one_pass, (p.grad for p in G.parameters())):
        torch.testing.assert_close(a, b)
