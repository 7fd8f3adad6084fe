"""`scrabblegan sample`: a quick look at a generator, one row per style, or a style interpolation strip.

    scrabblegan sample --checkpoint C --text "hello world" --styles 8 --out grid.png
    scrabblegan sample --checkpoint C --text "hello" --styles 8 --interpolate 2 5 --steps 7 --out strip.png

Styles come from the same bank ``generate`` uses (``--seed``/``--truncation``, or ``--style-bank``
of an earlier run), so row i here is the writer ``style-i`` of a ``generate`` run with the same
bank. The grid is white with ``--gap`` px between rows; row r is ``32`` px high at
``y = gap + r * (32 + gap)``, and the image is ``16 * len(text) + 2 * gap`` px wide.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from hwdatasets import normalize_text
from scrabblegan.config import HEIGHT
from scrabblegan.generate import GenerateError, _device, load_generator, resolve_bank, resolve_checkpoint
from scrabblegan.inference import StyledGenerator, to_uint8_batch


def interpolate(z_a: torch.Tensor, z_b: torch.Tensor, steps: int) -> torch.Tensor:
    """``steps`` style vectors from ``z_a`` to ``z_b`` (both ends included), linearly: ``[steps, z_dim]``."""
    if steps < 2:
        raise GenerateError("--steps must be at least 2 (the two ends)")
    t = torch.linspace(0.0, 1.0, steps)[:, None]
    return (1 - t) * z_a[None] + t * z_b[None]


def render_rows(net: StyledGenerator, labels: torch.Tensor, z: torch.Tensor, gap: int = 4) -> np.ndarray:
    """One image of ``labels [1, L]`` per row of ``z [R, z_dim]``, stacked on white with ``gap`` px."""
    rows = [to_uint8_batch(net(net.style_table(zi), labels))[0] for zi in z]  # each [32, 16 L]
    width = rows[0].shape[1]
    grid = np.full((len(rows) * (HEIGHT + gap) + gap, width + 2 * gap), 255, np.uint8)
    for r, img in enumerate(rows):
        y = gap + r * (HEIGHT + gap)
        grid[y : y + HEIGHT, gap : gap + width] = img
    return grid


def run(args: argparse.Namespace) -> int:
    G, codec, _, _ = load_generator(resolve_checkpoint(args.checkpoint))
    text = normalize_text(args.text)
    if not text:
        raise GenerateError("--text is empty")
    missing = codec.alphabet.missing(text)
    if missing:
        raise GenerateError(f"--text {text!r} has character(s) {''.join(missing)!r} the model cannot write; "
                            f"its alphabet is {codec.alphabet.to_string()!r}")
    bank = resolve_bank(args, G.z_dim)
    if args.interpolate:
        a, b = args.interpolate
        for i in (a, b):
            if not 0 <= i < len(bank):
                raise GenerateError(f"--interpolate: style {i} is not in the bank of {len(bank)} styles (0 .. {len(bank) - 1})")
        z = interpolate(bank.z[a], bank.z[b], args.steps)
    else:
        z = bank.z
    device = _device(args.device)
    labels, _ = codec.encode_padded([text])
    grid = render_rows(StyledGenerator(G, device), labels, z, args.gap)
    if args.scale > 1:
        grid = np.kron(grid, np.ones((args.scale, args.scale), np.uint8))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid).save(args.out)
    what = f"interpolation {args.interpolate[0]} -> {args.interpolate[1]} in {args.steps} steps" if args.interpolate else f"{len(z)} styles"
    print(f"wrote {args.out} ({grid.shape[1]}x{grid.shape[0]} px, {what})")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sample", help="a PNG of one text in several styles (one row each), or a style interpolation strip",
        description="Write one text in each style of a style bank (one row per style), or with --interpolate A B "
        "a strip of --steps rows going from style A to style B.")
    p.add_argument("--checkpoint", type=Path, help="training checkpoint or release model (default: the bundled model)")
    p.add_argument("--text", required=True, help="the text to write (characters of the model's alphabet)")
    p.add_argument("--styles", type=int, default=None, help="number of styles (default 8, or the whole --style-bank)")
    p.add_argument("--out", type=Path, required=True, help="output PNG")
    p.add_argument("--seed", type=int, help="seed of the style bank (default 0, as in generate)")
    p.add_argument("--truncation", type=float, help="redraw style entries with |z| > T")
    p.add_argument("--style-bank", type=Path, help="styles.pt of a generate run")
    p.add_argument("--interpolate", type=int, nargs=2, metavar=("A", "B"), help="interpolate from style A to style B")
    p.add_argument("--steps", type=int, default=8, help="rows of the interpolation strip (default 8)")
    p.add_argument("--gap", type=int, default=4, help="white pixels between rows (default 4)")
    p.add_argument("--scale", type=int, default=1, help="enlarge the PNG by this integer factor (default 1)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.set_defaults(func=_run_with_defaults)


def _run_with_defaults(args: argparse.Namespace) -> int:
    if args.styles is None and args.style_bank is None:
        args.styles = 8
    return run(args)
