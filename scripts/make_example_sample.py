"""Render the small sample dataset shipped in examples/sample/ (used by the README's first command).

It is ASCII text rendered with Pillow's bundled font (which has no accented letters) with random
slant, size, ink and paper tone; not real handwriting, but enough to try `prepare` and `show` without downloading anything. Rerun to
rebuild it; the output is deterministic.

    python scripts/make_example_sample.py --out examples/sample
"""
from __future__ import annotations

import argparse
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WORDS = [
    "handwriting", "synthetic", "scrabble", "letters", "recognizer", "styles", "writer", "paper",
    "ink", "quill", "lexicon", "German", "French", "Strasse", "Berlin", "village", "letter", "Paris",
    "museum", "harbour", "river", "forest", "window", "morning",
]


def render(word: str, rng: random.Random) -> Image.Image:
    font = ImageFont.load_default(size=rng.randint(26, 34))
    left, top, right, bottom = font.getbbox(word)
    w, h = right - left + 24, bottom - top + 20
    paper = rng.randint(225, 250)
    img = Image.new("L", (w, h), paper)
    ImageDraw.Draw(img).text((12 - left, 10 - top), word, fill=rng.randint(10, 70), font=font)
    shear = rng.uniform(-0.35, 0.1)
    img = img.transform((w + int(abs(shear) * h), h), Image.Transform.AFFINE,
                        (1, shear, min(0, shear) * h, 0, 1, 0), Image.Resampling.BICUBIC, fillcolor=paper)
    return img.rotate(rng.uniform(-3, 3), Image.Resampling.BICUBIC, expand=True, fillcolor=paper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("examples/sample"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, word in enumerate(WORDS):
        name = f"word_{i:03d}.png"
        render(word, rng).save(args.out / name, optimize=True)
        lines.append(f"{name}\t{word}\tstyle{i % 4}")
    (args.out / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
