"""End-to-end tests of the training loop on tiny in-memory data (tiny preset, CPU)."""
import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import FakeWords, tiny_config

from hwdatasets.sample import Sample
from scrabblegan import losses
from scrabblegan.checkpoint import load_checkpoint
from scrabblegan.train import add_parser, train
from scrabblegan.trainer import GANTrainer, NonFiniteLossError

REPO = Path(__file__).resolve().parents[2]


def _assert_same_state(a: dict, b: dict) -> None:
    for net in ("G", "G_ema", "D", "R"):
        assert a[net].keys() == b[net].keys()
        for k in a[net]:
            assert torch.equal(a[net][k], b[net][k]), f"{net}.{k} differs"
    for opt in ("opt_G", "opt_D", "opt_R"):
        for pid, s in a[opt]["state"].items():
            for k, v in s.items():
                assert torch.equal(torch.as_tensor(v), torch.as_tensor(b[opt]["state"][pid][k])), f"{opt}[{pid}].{k}"


def test_resume_is_exact(tmp_path):
    """3 steps + resume + 3 steps gives the same weights, EMA and optimizer state as 6 steps."""
    data = FakeWords()
    straight = train(tiny_config(tmp_path / "a", steps=6, d_per_g=2, save_every=3), dataset=data)
    train(tiny_config(tmp_path / "b", steps=3, d_per_g=2, save_every=3), dataset=data)
    resumed = train(tiny_config(tmp_path / "b", steps=6, d_per_g=2, save_every=3), resume=True, dataset=data)
    assert straight.step == resumed.step == 6 and straight.g_updates == resumed.g_updates == 3
    _assert_same_state(straight.state_dict(), resumed.state_dict())
    _assert_same_state(load_checkpoint(tmp_path / "a/checkpoints/last.pt"), load_checkpoint(tmp_path / "b/checkpoints/last.pt"))
    rows = [json.loads(x) for x in (tmp_path / "b/metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5, 6] and "Loss/G/adv" in rows[1]
    samples = sorted(p.name for p in (tmp_path / "b/samples").iterdir())  # every 2 steps and at each run's end
    assert samples == [f"step-0000000{i}.png" for i in (2, 3, 4, 6)]


def test_refuses_to_overwrite_a_run(tmp_path, fake_words):
    train(tiny_config(tmp_path, steps=1), dataset=fake_words)
    with pytest.raises(FileExistsError, match="--resume"):
        train(tiny_config(tmp_path, steps=2), dataset=fake_words)


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, fake_words, monkeypatch):
    train(tiny_config(tmp_path, steps=2), dataset=fake_words)
    last = tmp_path / "checkpoints/last.pt"
    digest = hashlib.sha256(last.read_bytes()).hexdigest()
    monkeypatch.setattr(losses, "g_hinge", lambda scores: scores.mean() * float("nan"))
    with pytest.raises(NonFiniteLossError, match="G step at step 3"):
        train(tiny_config(tmp_path, steps=6), resume=True, dataset=fake_words)
    assert hashlib.sha256(last.read_bytes()).hexdigest() == digest


def test_sigterm_saves_and_stops(tmp_path, fake_words, monkeypatch):
    real_r_step = GANTrainer.r_step

    def r_step(self, real):
        if self.step == 2:  # during the third iteration
            os.kill(os.getpid(), signal.SIGTERM)
        return real_r_step(self, real)

    monkeypatch.setattr(GANTrainer, "r_step", r_step)
    trainer = train(tiny_config(tmp_path, steps=50, save_every=100), dataset=fake_words)
    assert trainer.step == 3
    state = load_checkpoint(tmp_path / "checkpoints/last.pt")
    assert state["step"] == 3 and not state["partial"]


def test_exception_saves_a_checkpoint_then_raises(tmp_path, fake_words, monkeypatch):
    def boom(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(GANTrainer, "g_step", boom)
    with pytest.raises(RuntimeError, match="boom"):
        train(tiny_config(tmp_path, steps=5, save_every=100), dataset=fake_words)
    state = load_checkpoint(tmp_path / "checkpoints/last.pt")
    assert state["step"] == 0 and state["partial"]


def test_unlabeled_images_train_d(tmp_path, fake_words):
    unl = FakeWords(n=5, seed=1, labelled=False)
    trainer = train(tiny_config(tmp_path, steps=2), dataset=fake_words, unlabeled=unl)
    assert trainer.step == 2
    assert set(load_checkpoint(tmp_path / "checkpoints/last.pt")["data"]) == {"real", "unlabeled"}


def _parse(argv):
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["train", *argv])


def test_dry_run_prints_resolved_config(tmp_path, capsys):
    args = _parse(["--data", "x", "--out", str(tmp_path), "--preset", "tiny", "--steps", "7", "--dry-run"])
    assert args.func(args) == 0
    cfg = json.loads(capsys.readouterr().out)
    assert cfg["model"]["preset"] == "tiny" and cfg["model"]["g_ch"] == 4
    assert cfg["train"]["steps"] == 7 and cfg["train"]["data"] == ["x"] and cfg["train"]["batch_size"] == 8


def _write_shards(folder: Path) -> None:
    from hwdatasets.shards import ShardWriter

    rng = np.random.default_rng(0)
    with ShardWriter(folder, shard_size=8, height=32, source="test") as w:
        for i, s in enumerate(FakeWords(n=12).samples):
            img = np.where(rng.random((32, 10 * len(s.text))) < 0.3, 0, 255).astype(np.uint8)
            w.add(Sample(img, s.text, s.writer, s.id))


@pytest.mark.slow
def test_two_process_ddp_on_cpu(tmp_path):
    """The CLI under torchrun with 2 gloo processes: trains, rank 0 alone writes, resumes."""
    _write_shards(tmp_path / "shards")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "scrabblegan.train", "--data", str(tmp_path / "shards"), "--out", str(tmp_path / "run"),
           "--preset", "tiny", "--batch-size", "2", "--save-every", "2", "--sample-every", "2",
           "--log-every", "1", "--device", "cpu", "--no-progress"]
    for steps, extra in (("2", []), ("4", ["--resume"])):
        done = subprocess.run(cmd + ["--steps", steps, *extra], cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, done.stderr[-3000:]
    state = load_checkpoint(tmp_path / "run/checkpoints/last.pt")
    assert state["step"] == 4 and len(state["rng"]) == 2
    assert not torch.equal(state["rng"][0]["torch"], state["rng"][1]["torch"])  # each rank its own seed
    rows = [json.loads(x) for x in (tmp_path / "run/metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]  # one writer
    assert rows[-1]["Speed/images_per_s"] > 0
