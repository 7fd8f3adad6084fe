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
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hwdatasets.atomic import atomic_file

FORMAT_VERSION = 1


def capture_rng() -> dict[str, Any]:
    """The states of Python's, NumPy's and torch's (CPU and CUDA) global RNGs as plain types/tensors."""
    version, mt, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    return {
        "python": {"version": version, "state": list(mt), "gauss": gauss},
        "numpy": {"name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached": float(cached)},
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def restore_rng(state: dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng`."""
    py = state["python"]
    random.setstate((py["version"], tuple(py["state"]), py["gauss"]))
    npy = state["numpy"]
    np.random.set_state((npy["name"], npy["keys"].numpy().astype(np.uint32), npy["pos"], npy["has_gauss"], npy["cached"]))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically: temporary file in the same folder, fsync, rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"format_version": FORMAT_VERSION, **state}
    with atomic_file(path, "wb") as f:
        torch.save(state, f)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` and check its format version."""
    state = torch.load(path, map_location=map_location, weights_only=True)
    version = state.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(f"{path}: checkpoint format version {version}, this code reads version {FORMAT_VERSION}")
    return state


def load_networks(path: str | Path, map_location: str | torch.device = "cpu"):
    """The sampling generator (EMA weights, eval mode), the weak recognizer, the codec and the
    config of a training checkpoint: ``(G_ema, R, codec, RunConfig, step)``."""
    from recognizer.codec import Codec
    from recognizer.trunk import ConvRecognizer
    from scrabblegan.config import RunConfig
    from scrabblegan.generator import Generator

    from hwdatasets import Alphabet

    state = load_checkpoint(path, map_location)
    cfg = RunConfig.from_dict(state["config"])
    codec = Codec(Alphabet.from_string(state["alphabet"]))
    G = Generator(codec.num_classes, cfg.model)
    G.load_state_dict(state["G_ema"])
    R = ConvRecognizer(codec.num_classes, cfg.model.r_ch, cfg.model.r_batchnorm)
    R.load_state_dict(state["R"])
    return G.eval(), R.eval(), codec, cfg, int(state["step"])
