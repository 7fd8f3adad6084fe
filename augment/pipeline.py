"""Composable, seedable augmentation pipelines, the presets, and the config (dict / JSON) form.

A config is a list of ops, or ``{"ops": [...]}``; each op is ``{"op": NAME, **parameters}`` with
the names of :data:`augment.ops.OPS` and the parameters of that op's class, e.g.::

    {"ops": [{"op": "slant", "p": 0.5, "degrees": 10}, {"op": "blur", "p": 0.2, "high": 0.8}]}

Ops run in the order given. The presets below are configs of the same form.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from augment.ops import OPS, Op

PRESETS: dict[str, list[dict[str, Any]]] = {
    "none": [],
    # Variation of the kind one writer shows from word to word, and mild scan differences.
    "light": [
        {"op": "hscale", "p": 0.5, "low": 0.9, "high": 1.1},
        {"op": "slant", "p": 0.5, "degrees": 8.0},
        {"op": "rotate", "p": 0.2, "degrees": 1.5},
        {"op": "grid", "p": 0.3, "spacing": 16, "sigma": 1.0},
        {"op": "stroke", "p": 0.2},
        {"op": "ink", "p": 0.2, "darkness": [0.75, 1.0], "gamma": [0.8, 1.25]},
        {"op": "blur", "p": 0.1, "low": 0.3, "high": 0.6},
        {"op": "noise", "p": 0.1, "low": 1.0, "high": 4.0},
        {"op": "croppad", "p": 0.5, "pad": 4, "crop": 1, "shift": 1},
    ],
    # Variation across writers, pens and scans; still readable.
    "heavy": [
        {"op": "hscale", "p": 0.7, "low": 0.8, "high": 1.25},
        {"op": "vscale", "p": 0.4, "low": 0.85, "high": 1.05},
        {"op": "slant", "p": 0.7, "degrees": 15.0},
        {"op": "rotate", "p": 0.4, "degrees": 3.0},
        {"op": "grid", "p": 0.6, "spacing": 12, "sigma": 1.6},
        {"op": "stroke", "p": 0.4},
        {"op": "ink", "p": 0.5, "darkness": [0.55, 1.0], "gamma": [0.65, 1.5]},
        {"op": "paper", "p": 0.5},
        {"op": "blur", "p": 0.3, "low": 0.4, "high": 1.0},
        {"op": "noise", "p": 0.4, "low": 2.0, "high": 9.0},
        {"op": "croppad", "p": 0.7, "pad": 8, "crop": 2, "shift": 2},
    ],
}


class AugmentConfigError(ValueError):
    """An augmentation preset or config that cannot be built; the message says what is wrong."""


def make_op(spec: dict[str, Any]) -> Op:
    """One op from ``{"op": NAME, **parameters}``; unknown names and parameters are clear errors."""
    if not isinstance(spec, dict) or "op" not in spec:
        raise AugmentConfigError(f"an augmentation op must be a dict with an 'op' key, got {spec!r}")
    params = dict(spec)
    name = params.pop("op")
    if name not in OPS:
        raise AugmentConfigError(f"unknown augmentation op {name!r}; choose from {sorted(OPS)}")
    klass = OPS[name]
    fields = {f.name for f in dataclasses.fields(klass)}
    unknown = set(params) - fields
    if unknown:
        raise AugmentConfigError(f"op {name!r} has no parameter(s) {sorted(unknown)}; it takes {sorted(fields)}")
    params = {k: (tuple(tuple(x) if isinstance(x, list) else x for x in v) if isinstance(v, list) else v)
              for k, v in params.items()}
    op = klass(**params)
    if not 0.0 <= op.p <= 1.0:
        raise AugmentConfigError(f"op {name!r}: probability p={op.p} is not in [0, 1]")
    return op


def check_image(image: np.ndarray) -> None:
    """Raise a clear ``ValueError`` unless ``image`` is a non-empty uint8 ``[H, W]`` array."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 2:
        shape = getattr(image, "shape", None)
        raise ValueError(f"augment expects a uint8 gray image [H, W], got {getattr(image, 'dtype', type(image))} {shape}")
    if image.size == 0:
        raise ValueError(f"cannot augment an empty image (shape {image.shape})")


class Augmenter:
    """A sequence of ops applied in order with one random generator.

    Args:
        ops: the operations (see :mod:`augment.ops`), or op specs ``{"op": NAME, ...}``.
        name: a label for logs and montages (a preset name, or "custom").

    ``augmenter(image, rng)`` takes a ``numpy.random.Generator`` or an int seed: the same seed
    and image always give the same output. :meth:`for_sample` derives the generator from
    ``(seed, *keys)``, e.g. ``(seed, epoch, index)``, so a data loader needs no RNG state.
    """

    def __init__(self, ops: Sequence[Op | dict[str, Any]] = (), name: str = "custom"):
        self.ops = [op if isinstance(op, Op) else make_op(op) for op in ops]
        self.name = name

    def __call__(self, image: np.ndarray, rng: np.random.Generator | int) -> np.ndarray:
        check_image(image)
        if not self.ops:
            return image
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        h = image.shape[0]
        with _one_torch_thread():
            for op in self.ops:
                image = op(image, rng)
                if image.shape[0] != h or image.dtype != np.uint8:  # a bug in an op, not a user error
                    raise AssertionError(f"{type(op).__name__} returned {image.dtype} {image.shape}, expected height {h}")
        return image

    def for_sample(self, image: np.ndarray, seed: int, *keys: int) -> np.ndarray:
        """Augment with a generator seeded by ``(seed, *keys)`` (non-negative ints)."""
        return self(image, np.random.default_rng([seed, *keys]))

    def to_config(self) -> dict[str, Any]:
        """The config form of this pipeline (what :func:`build` takes back)."""
        return {"ops": [{"op": _op_name(op), **dataclasses.asdict(op)} for op in self.ops]}

    def __bool__(self) -> bool:
        return bool(self.ops)

    def __repr__(self) -> str:
        return f"Augmenter({self.name!r}, {len(self.ops)} ops: {', '.join(_op_name(o) for o in self.ops)})"


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    """Run torch's image ops on one thread: on images this small, thread hand-offs cost more than
    they gain (36 ms instead of 0.7 ms per affine warp on a busy 2-core machine)."""
    old = torch.get_num_threads()
    if old == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _op_name(op: Op) -> str:
    return next(k for k, v in OPS.items() if isinstance(op, v))


def build(spec: str | Path | dict | list | None) -> Augmenter:
    """An :class:`Augmenter` from a preset name (``none``, ``light``, ``heavy``), a JSON file path,
    a config dict ``{"ops": [...]}`` or a list of op specs. ``None`` is ``none``."""
    if spec is None:
        spec = "none"
    name = "custom"
    if isinstance(spec, (str, Path)):
        if str(spec) in PRESETS:
            name, spec = str(spec), PRESETS[str(spec)]
        elif Path(spec).is_file():
            try:
                name, spec = Path(spec).stem, json.loads(Path(spec).read_text(encoding="utf-8"))
            except json.JSONDecodeError as e:
                raise AugmentConfigError(f"{spec}: not valid JSON ({e})") from None
        else:
            raise AugmentConfigError(f"unknown augmentation {str(spec)!r}: give a preset ({', '.join(PRESETS)}) "
                                     "or a JSON config file")
    if isinstance(spec, dict):
        if set(spec) - {"ops", "name"}:
            raise AugmentConfigError(f"an augmentation config has keys 'ops' (and 'name'), got {sorted(spec)}")
        name, spec = spec.get("name", name), spec.get("ops", [])
    if not isinstance(spec, list):
        raise AugmentConfigError(f"an augmentation config is a list of ops or {{'ops': [...]}}, got {type(spec).__name__}")
    return Augmenter(spec, name=name)
