"""`scrabblegan show`: look at a shard folder (a montage PNG) or describe it (JSON statistics)."""
from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

import hwdatasets

from .prepare import positive_int


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "show",
        help="a montage PNG of samples from shard folders, or their statistics as JSON",
        description="Draw a grid of samples with their texts (--out montage.png), or print statistics as JSON (--stats).",
    )
    p.add_argument("data", type=Path, nargs="+", help="shard folder(s)")
    p.add_argument("--out", type=Path, help="write a montage PNG here")
    p.add_argument("--stats", action="store_true", help="print JSON statistics (counts, writers, alphabet, widths)")
    p.add_argument("--count", type=positive_int, default=24, help="samples in the montage (default 24)")
    p.add_argument("--columns", type=positive_int, default=3, help="montage columns (default 3)")
    p.add_argument("--scale", type=positive_int, default=2, help="montage image scale factor (default 2)")
    p.add_argument("--seed", type=int, default=0, help="which samples the montage picks (default 0)")
    p.add_argument("--verify", action="store_true", help="check every shard's sha256 against its manifest first")
    p.add_argument("--augment", metavar="PRESET", help="show each sample and augmented variants of it: a preset "
                   "(none, light, heavy) or an augmentation JSON config")
    p.add_argument("--variants", type=positive_int, default=3, help="augmented variants per sample (default 3)")
    p.set_defaults(func=run)


LABEL_FONTS = ("DejaVuSans.ttf", "LiberationSans-Regular.ttf", "NotoSans-Regular.ttf", "Arial.ttf", "arial.ttf")


def label_font(size: int) -> ImageFont.ImageFont:
    """A system sans font with wide Unicode coverage if there is one, else Pillow's bundled font
    (which lacks accented letters: labels then show boxes for them, the images are unaffected)."""
    for name in LABEL_FONTS:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def montage(samples: list[hwdatasets.Sample], columns: int = 3, scale: int = 2, cell_width: int = 360) -> Image.Image:
    """A grid of images (scaled by ``scale``, cropped to ``cell_width``) with each text under its image."""
    font = label_font(14)
    pad, text_h = 8, 20
    height = max((s.image.shape[0] for s in samples), default=32) * scale
    rows = max(1, -(-len(samples) // columns))
    cell_h = height + text_h + pad
    canvas = Image.new("L", (columns * (cell_width + pad) + pad, rows * cell_h + pad), 215)
    draw = ImageDraw.Draw(canvas)
    for k, s in enumerate(samples):
        r, c = divmod(k, columns)
        x, y = pad + c * (cell_width + pad), pad + r * cell_h
        img = Image.fromarray(s.image)
        img = img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
        canvas.paste(255, (x, y, x + cell_width, y + height))
        canvas.paste(img.crop((0, 0, min(img.width, cell_width), height)), (x, y))
        label = s.text if len(s.text) <= 36 else s.text[:35] + "…"
        writer = s.writer if len(s.writer) <= 10 else "…" + s.writer[-9:]
        draw.text((x, y + height + 2), f"{label}  [{writer}]", fill=0, font=font)
    return canvas


def stats(ds: hwdatasets.Shards) -> dict:
    texts, writers, widths = ds.texts(), ds.writers(), ds.widths()
    chars = Counter(c for t in texts for c in t)
    pct = [5, 25, 50, 75, 95]
    return {
        "folders": [str(f) for f in ds.folders],
        "count": len(ds),
        "shards": len(ds.files),
        "height": ds.height,
        "writers": len(set(writers)),
        "samples_per_writer": dict(sorted(Counter(writers).items())),
        "alphabet": ds.alphabet.to_string(),
        "alphabet_size": len(ds.alphabet),
        "char_frequencies": dict(sorted(chars.items())),
        "text_length": {"min": min(map(len, texts), default=0), "max": max(map(len, texts), default=0),
                        "mean": round(float(np.mean([len(t) for t in texts])), 2) if texts else 0},
        "width_percentiles": {f"p{p}": int(v) for p, v in zip(pct, np.percentile(widths, pct))} if len(widths) else {},
        "sources": sorted({m.get("source", "") for m in ds.manifests}),
        "licenses": sorted({m.get("license", "") for m in ds.manifests}),
    }


def augmented_rows(samples: list[hwdatasets.Sample], spec: str, variants: int, seed: int) -> list[hwdatasets.Sample]:
    """Each sample followed by ``variants`` augmented copies (labelled with the pipeline's name)."""
    import augment

    aug = augment.build(spec)
    rows = []
    for k, s in enumerate(samples):
        rows.append(s)
        rows += [hwdatasets.Sample(aug.for_sample(s.image, seed, k, v), s.text, f"{aug.name} {v + 1}", s.id)
                 for v in range(variants)]
    return rows


def run(args: argparse.Namespace) -> int:
    if not args.out and not args.stats:
        print("error: say what to show: --out montage.png and/or --stats", file=sys.stderr)
        return 2
    ds = hwdatasets.Shards(args.data, verify=args.verify)
    if args.stats:
        json.dump(stats(ds), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    if args.out:
        picks = sorted(random.Random(args.seed).sample(range(len(ds)), min(args.count, len(ds))))
        samples = [ds[i] for i in picks]
        if args.augment:
            samples, args.columns = augmented_rows(samples, args.augment, args.variants, args.seed), args.variants + 1
        image = montage(samples, args.columns, args.scale)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        image.save(args.out)
        print(f"wrote {args.out} ({len(picks)} of {len(ds)} samples)", file=sys.stderr)
    return 0
