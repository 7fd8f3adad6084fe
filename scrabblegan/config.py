"""Typed configuration: the architecture table, model and training settings, JSON round trip.

The run's resolved configuration is written to ``RUN/config.json`` and into every checkpoint.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Architecture as data. Per preset:
#   g_ch, d_ch, r_ch   channel base of generator, discriminator, weak recognizer
#   z_dim, z_chunks    style vector size and number of chunks (chunk 0 modulates the filter bank,
#                      chunk i >= 1 drives the conditional BatchNorm of G block i)
#   g_blocks           G residual up blocks: (in mult, out mult, upsample (h, w)); the filter bank
#                      makes g_blocks[0] in mult * g_ch channels of 4 x 4 per character
#   d_blocks           D residual blocks: (out mult, downsample by 2?)
# Output geometry: height 4 * prod(up_h) = 32, width 4 * prod(up_w) = 16 per character.
_G_BLOCKS = [(8, 4, (2, 1)), (4, 2, (2, 2)), (2, 1, (2, 2))]
ARCHITECTURES: dict[str, dict[str, Any]] = {
    # The paper's sizes: 512 x 4 x 4 per character filters, G/D base 64, z 128 = 4 x 32.
    "paper": dict(g_ch=64, d_ch=64, r_ch=64, z_dim=128, z_chunks=4, g_blocks=_G_BLOCKS,
                  d_blocks=[(1, True), (4, True), (8, True), (8, False)]),
    # Channel base 32 and a slimmer D (32-64-128-128): about 1/4 of the paper's arithmetic in G
    # and 1/12 in D, sized to train tens of thousands of steps a day on a 2-core CPU.
    "small": dict(g_ch=32, d_ch=32, r_ch=32, z_dim=128, z_chunks=4, g_blocks=_G_BLOCKS,
                  d_blocks=[(1, True), (2, True), (4, True), (4, False)]),
    # For tests and smoke runs only.
    "tiny": dict(g_ch=4, d_ch=4, r_ch=4, z_dim=32, z_chunks=4, g_blocks=_G_BLOCKS,
                 d_blocks=[(1, True), (2, True), (4, True), (4, False)]),
}

BOTTOM = 4  # filter-bank output: 4 x 4 per character
HEIGHT = 32
CHAR_WIDTH = 16


@dataclass
class ModelConfig:
    """Network sizes (see :data:`ARCHITECTURES`) and the settings shared by G, D and R."""

    preset: str = "small"
    g_ch: int = 32
    d_ch: int = 32
    r_ch: int = 32
    z_dim: int = 128
    z_chunks: int = 4
    g_blocks: list = field(default_factory=lambda: [list(b) for b in _G_BLOCKS])
    d_blocks: list = field(default_factory=lambda: [[1, True], [4, True], [8, True], [8, False]])
    spectral_norm: bool = True
    init_std: float = 0.02  # N(0, init_std) for G and D weights
    r_batchnorm: bool = True

    @classmethod
    def from_preset(cls, preset: str, **overrides: Any) -> "ModelConfig":
        if preset not in ARCHITECTURES:
            raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(ARCHITECTURES)}")
        arch = json.loads(json.dumps(ARCHITECTURES[preset]))  # deep copy, tuples -> lists
        return cls(preset=preset, **{**arch, **overrides})

    @property
    def z_chunk(self) -> int:
        return self.z_dim // self.z_chunks

    def validate(self) -> None:
        if self.z_dim % self.z_chunks:
            raise ValueError(f"z_dim {self.z_dim} is not divisible into {self.z_chunks} chunks")
        if self.z_chunks != len(self.g_blocks) + 1:
            raise ValueError(f"z_chunks must be one per G block plus one for the filter bank ({len(self.g_blocks) + 1})")
        up_h = up_w = 1
        for _, _, (h, w) in self.g_blocks:
            up_h, up_w = up_h * h, up_w * w
        if BOTTOM * up_h != HEIGHT or BOTTOM * up_w != CHAR_WIDTH:
            raise ValueError(f"G blocks give {BOTTOM * up_h} px height and {BOTTOM * up_w} px per character, "
                             f"need {HEIGHT} and {CHAR_WIDTH}")


@dataclass
class TrainConfig:
    """Optimisation, schedule, data and run settings (the paper's values as defaults)."""

    data: list = field(default_factory=list)  # shard folders of labelled real images
    out: str = "runs/scrabblegan"
    unlabeled: list = field(default_factory=list)  # shard folders whose images train D only
    lexicon: str | None = None  # word list for generated texts; default: the training texts
    steps: int = 100_000  # total iterations (one D + R update each; G every `d_per_g`-th)
    batch_size: int = 8  # per process
    d_per_g: int = 2  # D (and R) updates per G update (BigGAN: 2; the ScrabbleGAN reference code: 4)
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    lr_r: float = 2e-4
    betas: list = field(default_factory=lambda: [0.0, 0.999])
    grad_alpha: float = 1.0  # CTC gradient std = alpha * adversarial gradient std
    ema_decay: float = 0.999
    max_text_len: int = 40  # longer training texts / lexicon words are skipped
    save_every: int = 1000
    sample_every: int = 1000
    log_every: int = 10
    sample_texts: list = field(default_factory=list)  # fixed texts of the sample grid (default: lexicon picks)
    sample_styles: int = 6  # fixed z vectors in the sample grid
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    amp: str = "none"  # none | bf16 (CUDA only)
    channels_last: bool = True  # measurably faster on CPU (scripts/bench_train.py)
    progress: bool = True  # tqdm bar
    keep_every: int = 0  # also keep checkpoints/step-N.pt every N steps (0: never)


@dataclass
class RunConfig:
    """Everything a run needs; what ``RUN/config.json`` and checkpoints hold."""

    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
        return cls(model=_build(ModelConfig, d.get("model", {})), train=_build(TrainConfig, d.get("train", {})))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    @classmethod
    def load(cls, path: str | Path) -> "RunConfig":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def _build(klass: type, values: dict) -> Any:
    known = {f.name for f in dataclasses.fields(klass)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown {klass.__name__} setting(s): {sorted(unknown)}")
    return klass(**values)
