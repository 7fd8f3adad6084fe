"""Training checkpoints: one file with everything needed to resume exactly, written atomically.

Layout (all plain types and tensors, so ``torch.load(weights_only=True)`` can read it and a
checkpoint from a stranger cannot run code)::

    format_version  int
    step            completed training iterations
    G, G_ema, D, R  state dicts
    opt_G, opt_D, opt_R  optimizer state dicts
    rng             list, one entry per rank: {"python", "numpy", "torch", "cuda"} (see capture_rng)
    data            sampler states
    config          RunConfig.to_dict()
    alphabet        the codec's alphabet string (label i + 1 is character i; 0 is blank/padding)
    partial         True when written after a failure in the middle of an update

The generic parts (atomic save, ``weights_only`` load, RNG capture) live in
:mod:`recognizer.checkpoint`, shared with the recognizer's training loop.
"""
from __future__ import annotations

from pathlib import Path

import torch

from hwdatasets import Alphabet
from recognizer.checkpoint import FORMAT_VERSION, capture_rng, load_checkpoint, restore_rng, save_checkpoint
from recognizer.codec import Codec
from recognizer.trunk import ConvRecognizer
from scrabblegan.config import RunConfig
from scrabblegan.generator import Generator

__all__ = ["FORMAT_VERSION", "capture_rng", "load_checkpoint", "load_networks", "restore_rng", "save_checkpoint"]


def generator_from_state(state: dict) -> tuple[Generator, Codec, RunConfig]:
    """The sampling generator (EMA weights, eval mode), codec and config of a loaded checkpoint or
    release model (anything with ``G_ema``, ``config`` and ``alphabet``)."""
    cfg = RunConfig.from_dict(state["config"])
    codec = Codec(Alphabet.from_string(state["alphabet"]))
    G = Generator(codec.num_classes, cfg.model)
    G.load_state_dict(state["G_ema"])
    return G.eval(), codec, cfg


def load_networks(path: str | Path, map_location: str | torch.device = "cpu"):
    """The sampling generator, the weak recognizer (eval mode), the codec and the config of a
    training checkpoint: ``(G_ema, R, codec, RunConfig, step)``."""
    state = load_checkpoint(path, map_location)
    G, codec, cfg = generator_from_state(state)
    R = ConvRecognizer(codec.num_classes, cfg.model.r_ch, cfg.model.r_batchnorm)
    R.load_state_dict(state["R"])
    return G, R.eval(), codec, cfg, int(state["step"])
