import random

import numpy as np
import pytest
import torch

from scrabblegan import checkpoint


def test_rng_round_trip():
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    state = checkpoint.capture_rng()
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    checkpoint.restore_rng(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first


def test_atomic_save_and_weights_only_load(tmp_path):
    net = torch.nn.Linear(2, 2)
    opt = torch.optim.Adam(net.parameters())
    net(torch.randn(3, 2)).sum().backward()
    opt.step()
    path = tmp_path / "ck" / "last.pt"
    checkpoint.save_checkpoint(path, {"step": 5, "net": net.state_dict(), "opt": opt.state_dict(),
                                      "rng": [checkpoint.capture_rng()], "alphabet": "ab", "config": {"x": [1, True]}})
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]  # no temporary left behind
    state = torch.load(path, weights_only=True)  # plain types and tensors only
    assert state["step"] == 5 and state["format_version"] == checkpoint.FORMAT_VERSION
    state = checkpoint.load_checkpoint(path)
    torch.testing.assert_close(state["net"]["weight"], net.weight.detach())


def test_rejects_other_format_version(tmp_path):
    path = tmp_path / "x.pt"
    torch.save({"format_version": 99}, path)
    with pytest.raises(ValueError, match="format version 99"):
        checkpoint.load_checkpoint(path)
